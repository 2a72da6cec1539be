/*
 * Wrong variant: the client sends its line but never reads the echo, so it prints
 * nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int fd;
    struct sockaddr_in addr = {0};
    char line[4096], buf[4096];
    size_t got = 0;
    ssize_t n;

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
    /* MISTAKE: never reads the echo back, so there is nothing to print */
    (void)buf; (void)got; (void)n;
    close(fd);
    return 0;
}
