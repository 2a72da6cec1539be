/*
 * server PORT -- a correct alternative: a child is forked for each client
 * and echoes with recv/send, while the parent goes straight back to
 * accept(). Each process closes what it does not use: the parent the
 * connection, the child the listening socket. Children are reaped as they
 * end (SIGCHLD ignored), so no zombie is left.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve(int conn)
{
    char buf[1024];
    ssize_t n;

    while ((n = recv(conn, buf, sizeof buf, 0)) > 0) {
        ssize_t done = 0;
        while (done < n) {
            ssize_t w = send(conn, buf + done, n - done, MSG_NOSIGNAL);
            if (w <= 0)
                return;
            done += w;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: server PORT\n");
        exit(1);
    }
    signal(SIGCHLD, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        perror("socket");
        exit(1);
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 16) < 0) {
        perror("bind");
        exit(1);
    }
    for (;;) {
        int conn = accept(lfd, NULL, NULL);
        if (conn < 0) {
            perror("accept");
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(lfd);
            serve(conn);
            close(conn);
            _exit(0);
        }
        if (pid < 0)
            perror("fork");
        close(conn);
    }
}
