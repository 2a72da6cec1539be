/*
 * filemap FILE TEXT -- MISTAKE: the file is mapped with MAP_PRIVATE.
 *
 * A private mapping is copy-on-write: the first write to the page gives
 * the process its own copy of it, and that copy is never written back.
 * TEXT goes into our private copy only: the file on disk is unchanged
 * (the memory map shows the mapping as "p", not "s").
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    long pagesize = sysconf(_SC_PAGESIZE);
    struct stat st;
    size_t len;
    char *base;
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
    /* map its first page */
    base = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    /* write TEXT at the start, without a '\0' after it */
    memcpy(base, argv[2], len);
    if (munmap(base, pagesize) == -1) {
        perror("munmap failed");
        exit(1);
    }
    close(fd);
    exit(0);
}
