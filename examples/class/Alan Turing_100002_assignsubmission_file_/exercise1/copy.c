/*
 * copy <src> <dest> -- MISTAKE: dest is opened without O_TRUNC.
 *
 * When dest already exists and is longer than src, open() keeps its old
 * contents and cat only overwrites the beginning: the stale tail of the
 * old dest remains after the copy.
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

    /* create dest if needed: rw-r--r-- */
    fd = open(dest, O_CREAT | O_WRONLY, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
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
