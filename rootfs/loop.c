/* loop: burn one CPU forever.
 *
 * The seed's cpuset experiment: start two of these inside a container limited
 * to one CPU and watch each get about half of it in the host's `top`.
 * Built static so it runs in any rootfs, busybox included. */

int main(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
	return 0;
}
