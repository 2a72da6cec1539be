#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* waits for ps before grep is forked: once ps fills the pipe, nobody reads it */
int main(void)
{
    int p[2], status;
    pid_t ps, grep;
    if (pipe(p) == -1) { perror("pipe"); exit(1); }
    if ((ps = fork()) == 0) {
        dup2(p[1], 1); close(p[0]); close(p[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        _exit(127);
    }
    waitpid(ps, NULL, 0);
    if ((grep = fork()) == 0) {
        dup2(p[0], 0); close(p[0]); close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        _exit(127);
    }
    close(p[0]); close(p[1]);
    waitpid(grep, &status, 0);
    return WEXITSTATUS(status);
}
