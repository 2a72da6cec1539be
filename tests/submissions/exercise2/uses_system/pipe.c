#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* the shell makes the pipe: no pipe, fork or dup2 here */
int main(void)
{
    int status = system("ps -ef | grep fire''fox");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
