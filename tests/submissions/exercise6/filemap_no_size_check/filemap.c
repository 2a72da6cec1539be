/*
 * filemap FILE TEXT -- MISTAKE: the size of the file is never checked.
 *
 * mmap accepts to map a whole page of a file that is shorter (or empty),
 * but touching a byte of the mapping that lies past the end of the file
 * raises SIGBUS: with an empty file, the very first byte written kills
 * the process instead of an error message being printed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    long pagesize = sysconf(_SC_PAGESIZE);
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
