/*
 * filemap FILE TEXT -- a correct alternative: a FILE too short for TEXT is
 * grown with ftruncate (the new bytes are zeros) instead of being reported,
 * so that the mapping never reaches past the end of the file (no SIGBUS).
 * TEXT is then written through the MAP_SHARED mapping, flushed with msync
 * and the mapping removed: there is no write() call.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE TEXT\n", argv[0]);
        return 1;
    }
    size_t len = strlen(argv[2]);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDWR);
    if (fd == -1) {
        perror(argv[1]);
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) == -1) {
        perror("fstat");
        return 1;
    }
    if ((size_t)st.st_size < len && ftruncate(fd, (off_t)len) == -1) {
        perror("ftruncate");
        return 1;
    }
    char *p = mmap(0, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    close(fd); /* the mapping keeps the file */
    memcpy(p, argv[2], len);
    if (msync(p, page, MS_SYNC) == -1)
        perror("msync");
    munmap(p, page);
    return 0;
}
