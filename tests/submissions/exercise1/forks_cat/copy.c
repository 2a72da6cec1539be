/*
 * copy <src> <dest> -- MISTAKE: forks a child to run cat.
 *
 * The copy is right, but the process does not *become* cat: it forks,
 * the child does the dup2 and the exec, and the parent waits. exec alone
 * is enough here (and is what the exercise asks for): no fork is needed.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    char *src, *dest;
    int fd, status;
    pid_t pid;

    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }
    src = argv[1];
    dest = argv[2];

    fd = open(dest, O_CREAT | O_WRONLY | O_TRUNC, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
    if (fd == -1) {
        perror("error open");
        exit(1);
    }

    pid = fork();
    if (pid == -1) {
        perror("error fork");
        exit(1);
    }
    if (pid == 0) {
        /* child: stdout -> dest, then become cat */
        if (dup2(fd, 1) == -1) {
            perror("error dup2");
            _exit(1);
        }
        close(fd);
        execlp("cat", "cat", src, (char *)NULL);
        perror("error execlp");
        _exit(1);
    }

    /* parent: wait for cat */
    close(fd);
    if (waitpid(pid, &status, 0) == -1) {
        perror("error waitpid");
        exit(1);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        exit(1);
    return 0;
}
