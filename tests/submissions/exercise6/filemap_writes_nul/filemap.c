/*
 * filemap FILE TEXT -- MISTAKE: TEXT is copied with strcpy.
 *
 * strcpy copies TEXT and its final '\0': one byte more than TEXT is
 * written, so the byte of the file just after TEXT becomes a NUL instead
 * of staying unchanged (and if the file is exactly as long as TEXT, that
 * byte is past its end).
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
    /* map its first page, shared: our writes reach the file */
    base = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    /* write TEXT at the start */
    strcpy(base, argv[2]);
    if (munmap(base, pagesize) == -1) {
        perror("munmap failed");
        exit(1);
    }
    close(fd);
    exit(0);
}
