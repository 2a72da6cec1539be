/*
 * pipe -- does what the shell line "ps -ef | grep firefox" does.
 *
 * Reference solution, the lecture's arrangement with its bugs fixed:
 * the child becomes ps with its standard output on the write end of the
 * pipe, the parent becomes grep with its standard input on the read end.
 * Both close the two original pipe descriptors after dup2, so that grep
 * sees end-of-file once ps is done (nobody else holds the write end).
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
        close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        perror("execlp grep");
        exit(127);
    }
}
