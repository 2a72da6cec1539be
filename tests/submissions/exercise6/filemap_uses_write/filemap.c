/*
 * filemap FILE TEXT -- MISTAKE: TEXT is written with write(), not mapped.
 *
 * The file ends up right, but the exercise is about mmap: the file is
 * never mapped at all, TEXT is written with lseek and write instead of
 * being copied into a shared mapping of the file's first page.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    struct stat st;
    size_t len;
    int fd;

    if (argc != 3) {
        printf("usage: filemap FILE TEXT\n");
        exit(1);
    }
    len = strlen(argv[2]);
    /* open the file for reading and writing */
    if ((fd = open(argv[1], O_RDWR)) < 0) {
        perror("open failed");
        exit(1);
    }
    /* never touch the mapping past the end of the file (SIGBUS) */
    if (fstat(fd, &st) == -1) {
        perror("fstat failed");
        exit(1);
    }
    if (st.st_size == 0 || (size_t)st.st_size < len) {
        fprintf(stderr, "%s is too short: %lld bytes\n", argv[1],
                (long long)st.st_size);
        exit(1);
    }
    /* write TEXT at the start, without a '\0' after it */
    if (lseek(fd, 0, SEEK_SET) == -1) {
        perror("lseek failed");
        exit(1);
    }
    if (write(fd, argv[2], len) != (ssize_t)len) {
        perror("write failed");
        exit(1);
    }
    close(fd);
    exit(0);
}
