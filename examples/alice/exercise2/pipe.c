/*
 * Exercise 2 - ps -ef | grep firefox.
 * Alice: the child runs ps writing into the pipe, the parent becomes grep
 * reading from it. Both close the pipe descriptors after dup2.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    pid_t child;

    if (pipe(fds) < 0) {
        perror("pipe");
        return 1;
    }
    child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }

    if (child == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        perror("ps");
        _exit(127);
    }

    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    close(fds[1]);
    execlp("grep", "grep", "firefox", (char *)NULL);
    perror("grep");
    return 127;
}
