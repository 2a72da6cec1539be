/*
 * sender -- MISTAKE: the message size is sizeof(struct message), with the
 * text field sized by a macro: the queue shows 32 bytes for one message
 * instead of TEXT_SIZE (20). The receiver is right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define KEY 1234
#define TEXT_SIZE 20

struct message {
    long mtype;
    char mtext[TEXT_SIZE];
};

int main(void)
{
    struct message msg = {1, ""};
    int id = msgget(KEY, 0666);

    if (id < 0) {
        perror("msgget");
        return 1;
    }
    strncpy(msg.mtext, "hello vietnam", TEXT_SIZE - 1);
    if (msgsnd(id, &msg, sizeof(struct message), 0) < 0) {
        perror("msgsnd");
        return 1;
    }
    return 0;
}
