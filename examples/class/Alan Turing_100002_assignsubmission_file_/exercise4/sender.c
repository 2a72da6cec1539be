/*
 * sender -- send one message "hello vietnam" of type 1 on queue 1234.
 *
 * Reference solution: msgget without IPC_CREAT only finds an existing
 * queue (it fails if the creator has not run). The size given to msgsnd
 * is the size of the text only, sizeof(msg.mtext): the mtype field is
 * not counted (the lecture's sizeof(struct message) is wrong).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    /* send a message */
    msg.mtype = 1;
    strcpy(msg.mtext, "hello vietnam");
    if (msgsnd(msgid, &msg, sizeof(msg.mtext), 0) == -1) {
        perror("msgsnd failed");
        exit(1);
    }
    exit(0);
}
