/*
 * copy <src> <dest> -- copy a file with cat (I/O redirection exercise).
 *
 * Reference solution: open (create or truncate) dest with mode 0644,
 * make it our standard output with dup2, close the now useless descriptor
 * and replace ourselves with "cat src". cat then writes src into dest.
 * Unlike the lecture's version, errors exit with status 1, not 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    char *src, *dest;
    int fd;

    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }
    src = argv[1];
    dest = argv[2];

    /* create dest, or empty it if it exists: rw-r--r-- */
    fd = open(dest, O_CREAT | O_WRONLY | O_TRUNC, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
    if (fd == -1) {
        perror("error open");
        exit(1);
    }
    /* standard output (1) now refers to dest */
    if (dup2(fd, 1) == -1) {
        perror("error dup2");
        exit(1);
    }
    /* fd is a second descriptor on dest: cat does not need it */
    close(fd);

    execlp("cat", "cat", src, (char *)NULL);
    /* only reached if exec failed */
    perror("error execlp");
    exit(1);
}
