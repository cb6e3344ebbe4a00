/* affinity.h: keep the helper and the child it hands over to on one CPU.
 *
 * Starting a container or an exec, the helper and its child wake each
 * other several times ('C', 'X', 'G', the exec, the command's end). On a
 * virtual machine, each wake-up of a task on another, idle vCPU is a round
 * trip through the host, and so is moving the child into a cpuset it is
 * not running on. Both therefore run on one CPU the container may use.
 * What the container runs gets the caller's affinity back before exec.
 * Only speed depends on this: any failure leaves the affinity as it was. */
#ifndef MD_AFFINITY_H
#define MD_AFFINITY_H

#include <sched.h>

/* Pin this process to one CPU of allowed (NULL: any): the one it is on
 * when allowed has it, else the lowest. Remembers the affinity it had. */
void affinity_pin_within(const cpu_set_t *allowed);
/* The same for a cpuset list as in struct cg_limits ("0-1,3"; "": any). */
void affinity_pin_within_list(const char *list);
/* The affinity from before the pin, back: in a child before exec. Only a
 * raw system call, so a vfork child may call it. */
void affinity_restore(void);

#endif
