/*
 * Exercise 1 - copy <src> <dest> with cat   (Bob)
 * open the destination, redirect stdout into it, then run cat.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int fd;

    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }

    /* create the destination file */
    fd = open(argv[2], O_CREAT | O_WRONLY, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
    if (fd == -1) {
        perror("open");
        exit(1);
    }
    if (dup2(fd, 1) == -1) {
        perror("dup2");
        exit(1);
    }
    close(fd);

    execlp("cat", "cat", argv[1], (char *)NULL);
    perror("execlp");
    exit(1);
}
