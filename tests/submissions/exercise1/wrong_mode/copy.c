/*
 * copy <src> <dest> -- MISTAKE: dest is created with mode 0666.
 *
 * The exercise asks for rw-r--r-- (0644). Here group and others also get
 * write permission (with umask 022 the file still ends up 0644, but with
 * umask 002 or 000 it becomes group/world-writable).
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

    /* create dest, or empty it if it exists: rw-rw-rw- */
    fd = open(dest, O_CREAT | O_WRONLY | O_TRUNC, S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH);
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
