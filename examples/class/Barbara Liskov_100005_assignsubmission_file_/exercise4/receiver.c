/*
 * receiver -- receive one message from queue 1234 and print it.
 *
 * Reference solution: msgget without IPC_CREAT (fails if the queue does
 * not exist). msgrcv without IPC_NOWAIT blocks: if no message is there
 * yet, the process sleeps until one arrives. The buffer size is the size
 * of the text only, sizeof(msg.mtext).
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
    if (msgrcv(msgid, &msg, sizeof(msg.mtext), 0, 0) == -1) {
        perror("msgrcv failed");
        exit(1);
    }
    printf("received : %s\n", msg.mtext);
    exit(0);
}
