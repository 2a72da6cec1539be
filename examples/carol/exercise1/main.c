/*
 * Exercise 1: copy src dest  (Carol)
 * Redirect stdout to dest and let cat do the copy.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    const char *source, *target;
    int target_fd;

    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }
    source = argv[1];
    target = argv[2];

    target_fd = open(target, O_CREAT | O_WRONLY | O_TRUNC,
                     S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
    if (target_fd == -1) {
        perror("open dest");
        exit(1);
    }
    if (dup2(target_fd, 1) == -1) {
        perror("dup2");
        exit(1);
    }
    close(target_fd);

    execlp("cat", "cat", source, (char *)NULL);
    perror("exec cat");
    exit(1);
}
