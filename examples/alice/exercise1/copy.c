/*
 * Exercise 1 - copy <src> <dest> using cat.
 * Alice: open dest (create/truncate, rw-r--r--), put it on stdout with
 * dup2, close the extra descriptor and exec cat on the source file.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int out_fd;

    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }

    out_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC,
                  S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
    if (out_fd < 0) {
        perror(argv[2]);
        exit(EXIT_FAILURE);
    }
    if (dup2(out_fd, STDOUT_FILENO) < 0) {
        perror("dup2");
        exit(EXIT_FAILURE);
    }
    close(out_fd); /* stdout is enough */

    execlp("cat", "cat", argv[1], (char *)NULL);
    perror("cat");
    exit(EXIT_FAILURE);
}
