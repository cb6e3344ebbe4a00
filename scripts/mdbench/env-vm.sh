# env-vm.sh: sysbench in a QEMU guest (mdvm.sh run). Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# vm: a Debian guest made by `mdvm.sh build --include sysbench`; each
# `mdvm.sh run` boots it (its own kernel, a minimal init, no systemd), runs
# one command and powers off; a fileio run is one boot that prepares, drops
# the guest's cache, runs and cleans up. The guest writes to an overlay in
# the work directory (on the disk iostat watches), with QEMU's cache=none so
# that the host's page cache does not serve the guest's disk reads.
mb_env_setup_vm() {
	command -v mdvm.sh >/dev/null 2>&1 || {
		mb_reason="mdvm.sh is not on PATH (install minidocker: make install)"
		return 1
	}
	mb_vm=${mb_vm_image:-$(mb_default_vm_image)}
	case $mb_vm in
	*.qcow2) ;;
	*) mb_reason="--vm-image $mb_vm: not a .qcow2 made by mdvm.sh build"; return 1 ;;
	esac
	if [ ! -f "$mb_vm" ] && [ "$mb_vm_build" = 1 ]; then
		mb_say "building the guest $mb_vm (mdvm.sh build --include sysbench; a few minutes)"
		if ! mb_why=$(md_root_safe_dir "guest directory" "$(dirname -- "$mb_vm")" "sudo -H, or --vm-image" 2>&1); then
			mb_reason=${mb_why#"$PROG: "}
			return 1
		fi
		mkdir -p "$(dirname -- "$mb_vm")"
		mb_vm_err=$(mdvm.sh build "$mb_vm" --include sysbench 2>&1) || {
			mb_reason="mdvm.sh build $mb_vm --include sysbench failed: $(printf '%s\n' "$mb_vm_err" | tail -n 1)"
			return 1
		}
	fi
	if [ ! -f "$mb_vm" ]; then
		mb_reason="no guest image $mb_vm: build it once with \`mdvm.sh build $mb_vm --include sysbench\` (a few minutes), or run with --vm-build, or name one with --vm-image"
		return 1
	fi
	if [ ! -f "${mb_vm%.qcow2}.vmlinuz" ] || [ ! -f "${mb_vm%.qcow2}.initrd" ]; then
		mb_reason="$mb_vm has no .vmlinuz and .initrd beside it (not made by mdvm.sh build?)"
		return 1
	fi
	# The VM's share of the machine: the same CPUs and memory limits as the
	# containers; a VM needs some size, so without --memory it gets 1024 MB.
	mb_vm_cpus=${mb_cpus:-$(nproc)}
	mb_vm_mem=1024 mb_vm_memwhy="no --memory given; a VM needs a size"
	if [ -n "$mb_memory" ]; then
		mb_vm_mem=$(($(md_parse_size "$mb_memory") / 1048576)) mb_vm_memwhy="--memory $mb_memory"
	fi
	mb_vm_args="--cpus $mb_vm_cpus --memory $mb_vm_mem --disk-cache none"
	# shellcheck disable=SC2016,SC2086 # $1 is the guest shell's; $mb_vm_args holds option words
	mb_vm_ver=$(TMPDIR=$mb_work timeout -s TERM 600 mdvm.sh run "$mb_vm" $mb_vm_args -- \
		sh -c 'sysbench --version && mkdir -p "$1" && cd "$1" && sh -c "$2" | sed "s/^/fstype: /"' sh "$MB_FILEIO_DIR" "$MB_FS_PROBE" 2>&1) || {
		mb_reason="mdvm.sh run $mb_vm failed: $(printf '%s\n' "$mb_vm_ver" | tail -n 1)"
		return 1
	}
	case $mb_vm_ver in
	*"sysbench 1."*) ;;
	*) mb_reason="no sysbench 1.x in $mb_vm (build it with --include sysbench): $(printf '%s\n' "$mb_vm_ver" | tail -n 1)"; return 1 ;;
	esac
	mb_vm_fs=$(printf '%s\n' "$mb_vm_ver" | sed -n 's/^fstype: //p' | mb_fs_name)
	mb_set env.vm.files "$MB_FILEIO_DIR in the guest, on $mb_vm_fs on its virtual disk (virtio, a qcow2 overlay on $mb_vm in the work directory, QEMU cache=none: no host page cache)"
	# The accelerator mdvm.sh used: TCG, QEMU's software emulation, when
	# it said so (no usable KVM), whose cpu figures are several times
	# below native for that reason alone; else KVM. Every run asks for
	# that one: the report names it, and no run repeats the probe boot.
	mb_vm_accel=tcg
	if case $mb_vm_ver in *"using TCG"*) false ;; *) true ;; esac &&
		[ -r "${MDVM_KVM_DEVICE:-/dev/kvm}" ] && [ -w "${MDVM_KVM_DEVICE:-/dev/kvm}" ]; then
		mb_vm_accel=kvm
	fi
	mb_set env.vm.accel "$mb_vm_accel"
	mb_vm_args="$mb_vm_args --accel $mb_vm_accel"
	mb_set env.vm.setup "accelerator $(echo "$mb_vm_accel" | tr '[:lower:]' '[:upper:]'); mdvm.sh run $mb_vm $mb_vm_args: QEMU $(qemu-system-x86_64 --version 2>/dev/null | awk 'NR == 1 { print $4 }') -smp $mb_vm_cpus -m $mb_vm_mem ($mb_vm_memwhy), the guest's own Debian kernel and a minimal init, one boot per run (the time marks include the boot)"
	mb_set env.vm.limits "-smp $mb_vm_cpus -m $mb_vm_mem"
	mb_set env.vm.sysbench "$(printf '%s\n' "$mb_vm_ver" | awk '/^sysbench/ { print $2; exit }')"
}

# Where the guest is kept between benchmarks (built once, minutes).
mb_default_vm_image() {
	echo "${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/minidocker/mdbench-vm.qcow2"
}

mb_env_exec_vm() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	# A guest that hangs must not hang the benchmark: mdvm.sh stops QEMU on
	# TERM. TMPDIR: the overlay goes into the work directory.
	# shellcheck disable=SC2086 # $mb_vm_args holds option words
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		env TMPDIR="$mb_work" timeout -s TERM $((180 + 20 * mb_time)) mdvm.sh run "$mb_vm" $mb_vm_args -- "$@"
}

mb_env_hostdir_vm() { :; }
mb_env_teardown_vm() { :; }

mb_env_teardown_all() {
	for mb_e in $mb_ready; do
		mb_env_teardown_"$mb_e" || true
	done
	mb_ready=
}
