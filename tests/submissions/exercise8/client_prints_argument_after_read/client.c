/*
 * client PORT TEXT -- MISTAKE: it connects, sends TEXT and reads from the
 * socket, but it throws away what it read (one byte) and prints its own
 * argument: against an echo server the output looks right, yet it is not
 * the line the server sent back.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    struct sockaddr_in addr = {0};
    char line[4096];
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: client PORT TEXT\n");
        return 1;
    }
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
        perror("socket");
        return 1;
    }
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    snprintf(line, sizeof line, "%s\n", argv[2]);
    if (write(fd, line, strlen(line)) < 0) {
        perror("write");
        return 1;
    }
    /* MISTAKE: reads a byte of the answer, then prints its own argument */
    if (read(fd, line, 1) < 0) {
        perror("read");
        return 1;
    }
    printf("%s\n", argv[2]);
    close(fd);
    return 0;
}
