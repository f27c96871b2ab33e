// @NAME@: a C program for capstan (hello world to start from).
#include <stdio.h>

int main(void)
{
	printf("Hello, world!\n");
	return 0;
}
