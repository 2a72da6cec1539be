#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* correct: the parent forks one child, which makes the pipe, forks ps and becomes grep */
int main(void)
{
    int status;
    pid_t child = fork();
    if (child == 0) {
        int p[2];
        if (pipe(p) == -1) { perror("pipe"); _exit(1); }
        if (fork() == 0) {
            dup2(p[1], 1); close(p[0]); close(p[1]);
            execlp("ps", "ps", "-ef", (char *)NULL);
            _exit(127);
        }
        dup2(p[0], 0); close(p[0]); close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        _exit(127);
    }
    if (waitpid(child, &status, 0) == -1) { perror("waitpid"); return 1; }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
