/*
 * client PORT TEXT -- sends TEXT and a newline to the echo server on 127.0.0.1:PORT
 * and prints the line it gets back.
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
    while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
        got += n;
        if (buf[got - 1] == '\n')
            break;
    }
    buf[got] = '\0';
    printf("%s", buf);
    close(fd);
    return 0;
}
