/*
 * receiver -- MISTAKE: busy waiting with IPC_NOWAIT.
 *
 * Instead of letting msgrcv block, the receiver asks again and again with
 * IPC_NOWAIT until a message is there: while it waits it does not sleep,
 * it burns 100% of a CPU.
 */
#include <errno.h>
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
    /* receive a message (any type): try again until there is one */
    while (msgrcv(msgid, &msg, sizeof(msg.mtext), 0, IPC_NOWAIT) == -1) {
        if (errno != ENOMSG) {
            perror("msgrcv failed");
            exit(1);
        }
    }
    printf("received : %s\n", msg.mtext);
    exit(0);
}
