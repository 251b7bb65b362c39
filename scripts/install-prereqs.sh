#!/usr/bin/env bash
# Installs the Debian packages InitOS builds and tests with, only when one is missing.
set -euo pipefail

packages=(
  qemu-system-x86 qemu-utils   # boots under test
  busybox-static               # emergency shell and the default OS
  cpio zstd kmod binutils      # reading initramfs back, depmod, readelf
  e2fsprogs btrfs-progs xfsprogs dosfstools erofs-utils squashfs-tools  # mkfs.* for probes and images
  gdisk fdisk                  # sgdisk/sfdisk for partition-table fixtures
  gcc libc6-dev                # the C signal/spawn helper; NativeAOT links with the system toolchain
  iproute2 iputils-ping        # network tests create namespaces and ping (the product uses rtnetlink, not ip)
  systemd-boot-efi ovmf        # the UKI stub, systemd-boot and the UEFI firmware (Secure Boot builds)
  sbsigntool efitools openssl  # Authenticode signing, EFI signature lists and enrolment updates
  mtools swtpm swtpm-tools     # files into the ESP without mounting; a software TPM for PCR 11
  dropbear-bin openssh-client  # the sidecar's sshd (packed into the initramfs); ssh for its tests
  cryptsetup-bin               # LUKS2 volumes: cryptsetup is packed when the config has [[crypt]]; tests format volumes with it
  dmsetup                      # [[crypt]]: packed beside cryptsetup, the sidecar reads an open volume's key to enrol TPM keys
  mdadm lvm2                   # [[raid]] and [[lvm]]: packed when the config has them; the tests make RAID1 members and volume groups with them
  debootstrap                  # initos build rootfs --debootstrap: the Debian (systemd) OS image
  umoci podman docker-registry # container images: umoci unpack is the reference, podman a source, the registry a test peer
  python3 python3-psutil python3-prctl dpkg-dev  # tini's upstream suite (its source fetched by scripts/apt-source.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null; then
  echo "error: the .NET 10 SDK (dotnet) is not on PATH; it is not a Debian package — install it first" >&2
  exit 1
fi
