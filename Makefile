# InitOS — the two commands: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CACHE      := .cache
KERNEL_DIR := $(CACHE)/kernel
OUT        := out
BOX        := $(OUT)/box/initos
CLI_DIR    := $(OUT)/cli
INITOS     := $(CLI_DIR)/initos
# make demo MODE=privileged|unprivileged: the OS in a jail instead of switch_root; MODE=vm: in QEMU
# (from a VM kit on a data volume, out/data.img; TCG inside TCG here, so it takes minutes).
MODE       ?= switch_root
UKI_CMDLINE := panic=-1 quiet root=LABEL=initos-root initos.mode=$(MODE)$(if $(filter vm,$(MODE)), initos.data=LABEL=initos-data)
DEMO_DISKS := --disk $(OUT)/disk.img$(if $(filter vm,$(MODE)), --disk $(OUT)/data.img --memory 1536)
DEMO_TIMEOUT := $(if $(filter vm,$(MODE)),2400,240)
DEMO_PORT  ?= 2222
PREFIX     ?= /usr/local
LIBDIR     := $(DESTDIR)$(PREFIX)/lib/initos
DOTNET     := dotnet
DOTNET_FLAGS := -nologo -v:q -clp:ErrorsOnly
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export SOURCE_DATE_EPOCH ?= 0
export INITOS_BOX := $(abspath $(BOX))
export INITOS_REAPER_COLLISION := $(abspath $(OUT)/diag/reaper-collision)
export INITOS_KERNEL_DIR := $(abspath $(KERNEL_DIR))

.PHONY: install uninstall data-volume slow-test demo-upgrade check-mode help prereqs kernel box diag firmware cli images demo-initramfs signed-images demo demo-direct run run-uefi test unit-test vm-test bench clean

help:
	@echo "make demo   install prerequisites, build, sign, boot the UKI under OVMF with Secure Boot into the default OS,"
	@echo "            then log in to the sidecar with initos ssh; MODE=privileged|unprivileged runs the OS in a jail,"
	@echo "            MODE=vm in QEMU under InitOS (nested TCG here: minutes)"
	@echo "make demo-direct  the same boot without firmware (direct kernel boot, quicker)"
	@echo "make test   install prerequisites and run every test"
	@echo "make run    boot the built images interactively (Ctrl-A X quits); make run-uefi: the signed disk"
	@echo "make install  the workstation initos (PREFIX=/usr/local): CLI, box, default config and kernel; make uninstall"
	@echo "make bench  boot time and size against initramfs-tools and a busybox script; PID 1 reaping and memory against tini and busybox init; jail start-up against runc and bwrap; podman with initos against podman with runc"

prereqs:
	@scripts/install-prereqs.sh

# The CLI finds the kernel beside its own directory (out/kernel here, PREFIX/lib/initos/kernel installed).
kernel: prereqs
	@scripts/fetch-kernel.sh $(CACHE)
	@mkdir -p $(OUT) && ln -sfn ../$(KERNEL_DIR) $(OUT)/kernel

# The NativeAOT multi-call binary that goes into the initramfs.
box: prereqs
	$(DOTNET) publish init/InitOs.Box -c Release $(DOTNET_FLAGS) -o $(OUT)/box
	@echo "box: $(BOX) $$(stat -c %s $(BOX)) bytes"

# Test-only NativeAOT programs (never in InitOS's initramfs): the two-reaper collision.
# CPU microcode and Realtek NIC firmware from Debian's non-free-firmware, downloaded and
# unpacked into the cache (the machine's apt sources untouched): the hardware tests pack them.
firmware: prereqs
	@scripts/fetch-firmware.sh $(CACHE)
	@mkdir -p $(OUT) && ln -sfn ../$(CACHE)/firmware/lib/firmware $(OUT)/firmware

diag: prereqs
	$(DOTNET) publish tests/InitOs.ReaperCollision -c Release $(DOTNET_FLAGS) -o $(OUT)/diag

cli: prereqs
	$(DOTNET) build image-build/InitOs.Cli -c Release $(DOTNET_FLAGS) -o $(CLI_DIR)

images: kernel box cli
	$(INITOS) build initramfs --output $(OUT)/initramfs.img
	$(INITOS) build rootfs --output $(OUT)/rootfs.img

# The demo machine's admin door: a key made here; DHCP and the sidecar added to the default config.
demo-initramfs: images
	@mkdir -p $(OUT)/keys
	@test -f $(OUT)/keys/admin || ssh-keygen -q -t ed25519 -N "" -C initos-demo -f $(OUT)/keys/admin
	@{ cat image-build/defaults/initos.toml; \
	   printf '\n[network]\nmode = "dhcp"\n\n[sidecar]\nssh = true\nauthorized_keys = ["%s"]\n' "$$(cat $(OUT)/keys/admin.pub)"; } > $(OUT)/demo.toml
	$(INITOS) build initramfs --config $(OUT)/demo.toml --output $(OUT)/demo-initramfs.img

# The signed path: Debian's OVMF test key (in OVMF_VARS_4M.snakeoil.fd's db) signs the UKI.
signed-images: demo-initramfs
	$(INITOS) keys snakeoil --output $(OUT)/keys/snakeoil
	$(INITOS) build uki --keys $(OUT)/keys/snakeoil --initrd $(OUT)/demo-initramfs.img --cmdline "$(UKI_CMDLINE)" --output $(OUT)/initos.efi
	$(INITOS) build disk --uki $(OUT)/initos.efi --rootfs $(OUT)/rootfs.img --output $(OUT)/disk.img

# The real path: the signed UKI under OVMF with Secure Boot enforced and a TPM measuring it;
# once the OS is up, an admin logs in to the sidecar with `initos ssh` and prints its status.
# The demo disk has no data volume, so the host key is new at every boot: forget the old pin.
demo: check-mode signed-images $(if $(filter vm,$(MODE)),data-volume)
	@rm -f $(OUT)/keys/known_hosts
	$(INITOS) run --uefi --secure-boot --tpm $(DEMO_DISKS) --net --forward $(DEMO_PORT):22 --until 'INITOS-OS-UP uptime=\S+ pid=\S+ hostname=\S+ rootfs=\S+' --timeout $(DEMO_TIMEOUT) \
	  --then '$(INITOS) ssh 127.0.0.1:$(DEMO_PORT) --key $(OUT)/keys/admin --known-hosts $(OUT)/keys/known_hosts -- status'

# Upgrades: 1.0 boots under Secure Boot; 2.0 is applied over ssh and blessed; 3.0 fails and the
# machine is back on 2.0 by itself (scripts/demo-upgrade.sh). The console goes to out/upgrade/console.log.
demo-upgrade: images
	scripts/demo-upgrade.sh build $(OUT)/upgrade
	@echo "make demo-upgrade: booting 1.0 (console in $(OUT)/upgrade/console.log); this takes a few minutes under TCG"
	@$(INITOS) run --uefi --secure-boot --disk $(OUT)/upgrade/disk.img --net --forward $(DEMO_PORT):22 --reboots \
	  --until 'upgrade: running 1\.0, a good version' --timeout 600 \
	  --then 'scripts/demo-upgrade.sh drive $(DEMO_PORT) $(OUT)/upgrade' > $(OUT)/upgrade/console.log 2>&1; \
	  status=$$?; cat $(OUT)/upgrade/demo.txt 2>/dev/null; exit $$status

check-mode:
	@case "$(MODE)" in switch_root|privileged|unprivileged|vm) ;; \
	  *) echo "make demo: MODE=$(MODE): expected switch_root, privileged, unprivileged or vm" >&2; exit 2 ;; esac

# Mode vm's data volume: the VM kit (QEMU, its libraries and firmware, the guest's kernel and
# InitOS's initramfs); the guest boots the host's root partition as its disk.
data-volume: images
	$(INITOS) build data --vm-kit --fstype ext4 --size 192 --initramfs $(OUT)/initramfs.img --output $(OUT)/data.img

# Direct kernel boot, for quick runs.
demo-direct: check-mode images $(if $(filter vm,$(MODE)),data-volume)
	$(INITOS) run $(if $(filter vm,$(MODE)),--disk $(OUT)/rootfs.img --disk $(OUT)/data.img --memory 1536 --net) --until 'INITOS-OS-UP uptime=\S+ pid=\S+ hostname=\S+ rootfs=\S+' --timeout $(DEMO_TIMEOUT) \
	  --append "quiet initos.mode=$(MODE)$(if $(filter vm,$(MODE)), initos.data=LABEL=initos-data)"

run: images
	$(INITOS) run --initrd $(OUT)/initramfs.img --disk $(OUT)/rootfs.img

run-uefi: signed-images
	$(INITOS) run --uefi --secure-boot --tpm --disk $(OUT)/disk.img

unit-test: kernel
	$(DOTNET) test tests/InitOs.UnitTests -c Release $(DOTNET_FLAGS) --logger "console;verbosity=normal" 2>&1 | tee $(OUT)/unit-test.log
	@scripts/test-summary.sh $(OUT)/unit-test.log

vm-test: kernel box diag firmware
	$(DOTNET) test tests/InitOs.VmTests -c Release $(DOTNET_FLAGS) --filter "Category!=Slow" --logger "console;verbosity=normal" 2>&1 | tee $(OUT)/vm-test.log
	@scripts/test-summary.sh $(OUT)/vm-test.log

# The suite, then a check that it left nothing behind (scripts/leftovers.sh): a second run in
# the same clone must start from the same machine as the first.
test: kernel box diag firmware
	@mkdir -p $(OUT)
	@scripts/leftovers.sh snapshot $(OUT)/leftovers.before
	$(DOTNET) test InitOs.sln -c Release $(DOTNET_FLAGS) --filter "Category!=Slow" --logger "console;verbosity=normal" 2>&1 | tee $(OUT)/test.log; \
	  status=$${PIPESTATUS[0]}; scripts/test-summary.sh $(OUT)/test.log; \
	  scripts/leftovers.sh check $(OUT)/leftovers.before || status=1; exit $$status

# Opt-in: the nested end-to-end boot of mode vm (QEMU under InitOS under QEMU, TCG inside TCG;
# its time is in docs/os-jail.md). `make test` covers the VM launcher on this machine directly.
slow-test: kernel box diag firmware
	@mkdir -p $(OUT)
	$(DOTNET) test tests/InitOs.VmTests -c Release $(DOTNET_FLAGS) --filter "Category=Slow" --logger "console;verbosity=normal" 2>&1 | tee $(OUT)/slow-test.log; \
	  status=$${PIPESTATUS[0]}; scripts/test-summary.sh $(OUT)/slow-test.log; exit $$status

bench: images
	scripts/bench.sh
	scripts/bench-profiles.sh
	scripts/bench-pid1.sh
	scripts/bench-jails.sh
	scripts/bench-jails-vm.sh
	scripts/bench-podman.sh
	scripts/bench-sidecar.sh
	scripts/bench-modes.sh
	scripts/bench-upgrades.sh
	scripts/bench-fleet.sh
	scripts/bench-rollout.sh
	scripts/bench-storage.sh

# The workstation `initos` from any directory: the CLI (framework-dependent: the .NET 10 runtime
# must be installed), the NativeAOT box, the default config (in the CLI's directory) and the
# kernel (hard links to the cache when on the same filesystem), all under PREFIX/lib/initos.
install: box kernel
	$(DOTNET) publish image-build/InitOs.Cli -c Release $(DOTNET_FLAGS) -o $(OUT)/install/cli
	rm -rf $(LIBDIR).new && mkdir -p $(LIBDIR).new/box $(DESTDIR)$(PREFIX)/bin
	cp -a $(OUT)/install/cli $(LIBDIR).new/cli
	install -m 0755 $(BOX) $(LIBDIR).new/box/initos
	ln -s initos $(LIBDIR).new/box/initos-runc
	cp -al $(KERNEL_DIR)/. $(LIBDIR).new/kernel 2>/dev/null || cp -a $(KERNEL_DIR)/. $(LIBDIR).new/kernel
	rm -rf $(LIBDIR) && mv $(LIBDIR).new $(LIBDIR)
	ln -sfn ../lib/initos/cli/initos $(DESTDIR)$(PREFIX)/bin/initos
	@echo "installed: $(DESTDIR)$(PREFIX)/bin/initos ($$($(DESTDIR)$(PREFIX)/bin/initos --version))"

uninstall:
	rm -rf $(LIBDIR) $(DESTDIR)$(PREFIX)/bin/initos

clean:
	rm -rf $(OUT) tests/artifacts
	find . -name bin -o -name obj | grep -E '/(bin|obj)$$' | xargs rm -rf
