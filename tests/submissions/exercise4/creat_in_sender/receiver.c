/*
 * receiver -- MISTAKE: msgget with IPC_CREAT.
 *
 * If the creator has not run, the receiver silently creates an empty queue
 * and waits on it forever instead of reporting an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

struct message {
    long mtype;
    char mtext[20];
};

int main(void)
{
    int msgid;
    key_t key = 1234;
    struct message msg;

    /* get the queue: it must already exist */
    if ((msgid = msgget(key, IPC_CREAT | 0666)) < 0) {
        perror("msgget failed");
        exit(1);
    }
    /* receive a message (any type), waiting for one if needed */
    if (msgrcv(msgid, &msg, sizeof(msg.mtext), 0, 0) == -1) {
        perror("msgrcv failed");
        exit(1);
    }
    printf("received : %s\n", msg.mtext);
    exit(0);
}
