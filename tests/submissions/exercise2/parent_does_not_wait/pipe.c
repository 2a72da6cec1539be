/*
 * pipe -- MISTAKE: the parent does not wait for its children.
 *
 * Two children (ps and grep) joined by a pipe, with every descriptor
 * correctly closed; but the parent returns right after the two forks.
 * The shell gets its prompt back before grep has printed anything, the
 * exit status is not grep's, and the children are left orphaned (they are
 * adopted by init). The parent must waitpid() for both.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    pid_t pid;

    if (pipe(p) == -1) {
        perror("pipe");
        exit(1);
    }

    pid = fork();
    if (pid == -1) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        /* ps -ef writes into the pipe */
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        perror("execlp ps");
        _exit(127);
    }

    pid = fork();
    if (pid == -1) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        /* grep firefox reads from the pipe */
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        perror("execlp grep");
        _exit(127);
    }

    /* parent: close both ends ... and leave */
    close(p[0]);
    close(p[1]);
    return 0;
}
