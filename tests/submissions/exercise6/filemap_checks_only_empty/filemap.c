/*
 * filemap FILE TEXT -- MISTAKE: only an empty FILE is reported. A FILE
 * that is not empty but shorter than TEXT gets TEXT copied into its page
 * all the same: no SIGBUS (the page exists), but the bytes past the end of
 * the file never reach it, so FILE holds only the start of TEXT.
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
    if (st.st_size == 0) { /* MISTAKE: a file of 3 bytes gets through */
        fprintf(stderr, "%s is empty\n", argv[1]);
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
