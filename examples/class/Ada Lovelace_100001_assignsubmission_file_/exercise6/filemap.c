/*
 * filemap FILE TEXT -- write TEXT at the start of FILE through a shared
 * mapping of its first page.
 *
 * Reference solution: the file is opened read/write and its size checked
 * with fstat first: a mapping may be longer than the file (here one whole
 * page), but touching a byte of the mapping past the end of the file
 * raises SIGBUS, so a file shorter than TEXT is reported as an error.
 * mmap with MAP_SHARED makes our writes go to the file itself (MAP_PRIVATE
 * would only change our own copy). TEXT is copied with memcpy, without
 * its final '\0', so the rest of the file is left unchanged. There is no
 * write() call at all: the kernel writes the page back to the file.
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
    /* write TEXT at the start, without a '\0' after it */
    memcpy(base, argv[2], len);
    if (munmap(base, pagesize) == -1) {
        perror("munmap failed");
        exit(1);
    }
    close(fd);
    exit(0);
}
