/*
 * client PORT TEXT -- a correct alternative: after sending TEXT and its
 * newline, it shuts down its sending side (the server sees end-of-file)
 * and reads with recv in a loop until the server closes, then prints all
 * it got.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char reply[4096];
    size_t got = 0;
    ssize_t n;

    if (argc != 3) {
        fprintf(stderr, "usage: client PORT TEXT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return 1;
    }
    if (send(fd, argv[2], strlen(argv[2]), 0) < 0 || send(fd, "\n", 1, 0) < 0) {
        perror("send");
        return 1;
    }
    shutdown(fd, SHUT_WR);
    while (got < sizeof reply && (n = recv(fd, reply + got, sizeof reply - got, 0)) > 0)
        got += n;
    if (n < 0) {
        perror("recv");
        return 1;
    }
    fwrite(reply, 1, got, stdout);
    close(fd);
    return 0;
}
