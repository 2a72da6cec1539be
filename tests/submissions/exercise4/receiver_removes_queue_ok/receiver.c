/*
 * receiver -- receive one message from queue 1234 and print it.
 *
 * A correct alternative: msgrcv asks for a message of type 1 (the type
 * the sender uses) rather than any type, and once it has printed it, the
 * receiver removes the queue (msgctl IPC_RMID) so that none is left.
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
    if ((msgid = msgget(key, 0666)) < 0) {
        perror("msgget failed");
        exit(1);
    }
    /* receive a message (any type), waiting for one if needed */
    if (msgrcv(msgid, &msg, sizeof(msg.mtext), 1, 0) == -1) {
        perror("msgrcv failed");
        exit(1);
    }
    printf("received : %s\n", msg.mtext);
    /* the one message has been received: the queue is no longer needed */
    if (msgctl(msgid, IPC_RMID, NULL) == -1) {
        perror("msgctl failed");
        exit(1);
    }
    exit(0);
}
