/*
 * pipe -- MISTAKE: the parent keeps the write end of the pipe.
 *
 * A different design: the parent forks two children, one becomes ps, the
 * other grep, and the parent waits for both. Each child closes its pipe
 * descriptors correctly, but the parent closes only p[0] and forgets p[1].
 * As long as the parent holds the write end, grep never sees end-of-file;
 * and the parent waits for grep: both wait forever.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    int status;
    pid_t ps_pid, grep_pid;

    if (pipe(p) == -1) {
        perror("pipe");
        exit(1);
    }

    ps_pid = fork();
    if (ps_pid == -1) {
        perror("fork");
        exit(1);
    }
    if (ps_pid == 0) {
        /* first child: ps -ef, stdout -> pipe */
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        perror("execlp ps");
        _exit(127);
    }

    grep_pid = fork();
    if (grep_pid == -1) {
        perror("fork");
        exit(1);
    }
    if (grep_pid == 0) {
        /* second child: grep firefox, stdin <- pipe */
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        perror("execlp grep");
        _exit(127);
    }

    /* parent: does not read from the pipe */
    close(p[0]);

    waitpid(ps_pid, NULL, 0);
    if (waitpid(grep_pid, &status, 0) == -1) {
        perror("waitpid");
        exit(1);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 1;
}
