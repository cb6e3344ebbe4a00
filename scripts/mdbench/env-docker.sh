# env-docker.sh: sysbench in a Docker container. Sourced by bench.sh.
# shellcheck disable=SC2034,SC2154 # bench.sh's state, set and read across the parts it sources

# docker: one long-lived container per bench, so that prepare, run and
# cleanup share its writable layer; each step is a `docker exec`.
mb_env_setup_docker() {
	command -v docker >/dev/null 2>&1 || {
		mb_reason="docker is not installed (sudo apt-get install docker.io)"
		return 1
	}
	mb_dk_err=$(docker version --format '{{.Server.Version}}' 2>&1) || {
		mb_reason="no Docker daemon answers: $(printf '%s\n' "$mb_dk_err" | tail -n 1)"
		return 1
	}
	mb_dk_server=$mb_dk_err
	mb_dk_image=
	if [ -n "$mb_docker_image" ]; then
		mb_dk_image=$mb_docker_image mb_dk_how="image $mb_docker_image given with --docker-image"
	elif docker image inspect "$MB_DOCKER_SEED" >/dev/null 2>&1; then
		mb_dk_image=$MB_DOCKER_SEED mb_dk_how="the lab's image $MB_DOCKER_SEED, present locally"
	else
		mb_dk_image=mdbench/sysbench:$(mb_sysbench_version)
		mb_dk_how="image $mb_dk_image made by \`docker import\` of a rootfs of busybox-static and the host's sysbench with its libraries (no registry reachable)"
		if ! docker image inspect "$mb_dk_image" >/dev/null 2>&1; then
			mb_say "importing $mb_dk_image into Docker"
			mb_build_quick_rootfs "$mb_work/docker-rootfs" || { mb_reason="building the image's rootfs failed"; return 1; }
			mb_dk_err=$(tar -C "$mb_work/docker-rootfs" -cf - . |
				docker import -c 'CMD ["/bin/sh"]' - "$mb_dk_image" 2>&1) || {
				mb_reason="docker import failed: $(printf '%s\n' "$mb_dk_err" | tail -n 1)"
				return 1
			}
			rm -rf "$mb_work/docker-rootfs"
		fi
	fi
	mb_dk_limits=
	[ -z "$mb_cpus" ] || mb_dk_limits="--cpuset-cpus 0-$((mb_cpus - 1))"
	[ -z "$mb_memory" ] || mb_dk_limits="$mb_dk_limits --memory $mb_memory"
	mb_dk_name=mdbench-$$
	# shellcheck disable=SC2086 # $mb_dk_limits holds separate option words
	mb_dk_err=$(docker run -d --name "$mb_dk_name" --network none $mb_dk_limits \
		"$mb_dk_image" sleep 2147483647 2>&1) || {
		docker rm -f "$mb_dk_name" >/dev/null 2>&1 || true
		mb_reason="docker run failed: $(printf '%s\n' "$mb_dk_err" | tail -n 1)"
		return 1
	}
	mb_docker_ctr=$mb_dk_name
	mb_dk_ver=$(docker exec "$mb_dk_name" sysbench --version 2>&1) || {
		mb_reason="sysbench does not run in $mb_dk_image: $(printf '%s\n' "$mb_dk_ver" | tail -n 1)"
		return 1
	}
	case $mb_dk_ver in
	*"sysbench 1."*) ;;
	*) mb_reason="$mb_dk_image has $mb_dk_ver, not sysbench 1.x (use --docker-image)"; return 1 ;;
	esac
	docker exec "$mb_dk_name" mkdir -p "$MB_FILEIO_DIR" || { mb_reason="mkdir $MB_FILEIO_DIR in the container failed"; return 1; }
	mb_dk_fs=$(docker exec -w "$MB_FILEIO_DIR" "$mb_dk_name" sh -c "$MB_FS_PROBE" 2>/dev/null | mb_fs_name) || mb_dk_fs=unknown
	mb_dk_rootdir=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null) || mb_dk_rootdir=
	mb_dk_root="${mb_dk_rootdir:-an unknown directory} ($(docker info --format '{{.Driver}}' 2>/dev/null || echo 'unknown driver'))"
	mb_set env.docker.setup "Docker Engine $mb_dk_server; docker run -d --network none${mb_dk_limits:+ $mb_dk_limits} $mb_dk_image, each step a docker exec; $mb_dk_how"
	mb_set env.docker.files "$MB_FILEIO_DIR in the container's writable layer: $mb_dk_fs, under $mb_dk_root"
	mb_set env.docker.sysbench "$(printf '%s\n' "$mb_dk_ver" | awk '{ print $2; exit }')"
	mb_dk_pid=$(docker inspect -f '{{.State.Pid}}' "$mb_dk_name" 2>/dev/null) || mb_dk_pid=
	[ -z "$mb_dk_pid" ] || mb_set env.docker.cgroup "$(mb_cpu_cgroup "$mb_dk_pid")"
}

mb_env_exec_docker() {
	mb_ex_out=$1 mb_ex_label=$2 mb_ex_expect=$3
	shift 3
	mb_spawn "$mb_ex_out" "$mb_ex_label" "$mb_ex_expect" \
		docker exec -w "$MB_FILEIO_DIR" "$mb_docker_ctr" "$@"
}

mb_env_hostdir_docker() { :; }

mb_env_teardown_docker() {
	[ -n "$mb_docker_ctr" ] || return 0
	docker rm -f "$mb_docker_ctr" >/dev/null 2>&1 || true
	mb_docker_ctr=
}
