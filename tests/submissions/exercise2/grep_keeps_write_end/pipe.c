/*
 * pipe -- MISTAKE: grep keeps the write end of the pipe.
 *
 * The lecture's arrangement, but the parent (which becomes grep) closes
 * only p[0] after dup2, not p[1]. grep itself then holds the write end:
 * when ps is done there is still a writer, so grep never sees end-of-file
 * and waits forever.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
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
        /* child: ps writes into the pipe */
        if (dup2(p[1], 1) == -1) {
            perror("dup2");
            _exit(127);
        }
        close(p[0]);
        close(p[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        perror("execlp ps");
        _exit(127);
    } else {
        /* parent: grep reads from the pipe */
        if (dup2(p[0], 0) == -1) {
            perror("dup2");
            exit(127);
        }
        close(p[0]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        perror("execlp grep");
        exit(127);
    }
}
