/*
 * Wrong variant: the server serves one client and exits instead of accepting the next.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int fd, one = 1;
    struct sockaddr_in addr = {0};

    if (argc != 2) {
        fprintf(stderr, "usage: server PORT\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); /* a client that leaves early must not kill us */
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
        perror("socket");
        return 1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        perror("setsockopt");
        return 1;
    }
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    if (listen(fd, 5) < 0) {
        perror("listen");
        return 1;
    }
    for (;;) {
        char buf[4096];
        ssize_t n;
        int client = accept(fd, NULL, NULL);

        if (client < 0) {
            perror("accept");
            continue;
        }
        while ((n = read(client, buf, sizeof buf)) > 0)
            if (write(client, buf, n) != n)
                break;
        close(client);
        return 0; /* MISTAKE: serves one client, then exits */
    }
}
