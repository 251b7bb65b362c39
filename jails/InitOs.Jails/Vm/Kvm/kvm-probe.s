# The KVM probe: a 64 KiB firmware image (QEMU's -bios) that proves a vCPU really runs.
#
# A /dev/kvm that opens proves little: under nested virtualization a guest's real-mode code may
# run while the switch to long mode hangs for ever (a kernel's "Probing EDD" and then silence).
# So the probe does what a 64-bit kernel's first steps do: from the reset vector it enters
# protected mode, builds identity page tables in RAM, turns on long mode and paging, and only
# then, from 64-bit code, writes its marker to COM1. Seeing the marker means the vCPU ran
# every mode a Linux guest needs.
#
# Built at build time (as, ld, objcopy: binutils): .text is linked at 0xF0000, where QEMU maps
# the last 64 KiB of the BIOS image below 1 MiB (and again below 4 GiB), and .reset at the
# reset vector, 0xFFFF0 (0xFFFFFFF0). ProbeFirmware lays the two into a 64 KiB image, zeros
# between them, so the box carries 200 bytes, not 64 KiB.

        .code16
        .text
        .globl _start
_start:                                 # 0xF0000, reached from the reset vector with CS = 0xF000
        cli
        cld
        lgdtl   %cs:(gdt_pointer - _start)
        movl    %cr0, %eax
        orl     $1, %eax                # CR0.PE
        movl    %eax, %cr0
        ljmpl   $0x08, $protected

        .code32
protected:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        # Page tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD): the first 2 MiB, identity mapped.
        movl    $0x1000, %edi
        xorl    %eax, %eax
        movl    $(3 * 4096 / 4), %ecx
        rep stosl
        movl    $0x2003, 0x1000         # present, writable
        movl    $0x3003, 0x2000
        movl    $0x0083, 0x3000         # present, writable, 2 MiB page
        movl    %cr4, %eax
        orl     $0x20, %eax             # CR4.PAE
        movl    %eax, %cr4
        movl    $0x1000, %eax
        movl    %eax, %cr3
        movl    $0xC0000080, %ecx       # EFER
        rdmsr
        orl     $0x100, %eax            # EFER.LME
        wrmsr
        movl    %cr0, %eax
        orl     $0x80000000, %eax       # CR0.PG: long mode is active from here
        movl    %eax, %cr0
        ljmp    $0x18, $long

        .code64
long:
        movw    $0x3F8, %dx             # COM1's transmit register
        leaq    marker(%rip), %rsi
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, %dx
        jmp     1b
2:      hlt
        jmp     2b

marker:
        .asciz  "INITOS-KVM-PROBE-OK\n"

        .balign 8
gdt:
        .quad   0
        .quad   0x00CF9A000000FFFF      # 0x08: 32-bit code, flat
        .quad   0x00CF92000000FFFF      # 0x10: data, flat
        .quad   0x00AF9A000000FFFF      # 0x18: 64-bit code
gdt_end:
gdt_pointer:
        .word   gdt_end - gdt - 1
        .long   gdt

        .section .reset, "ax"           # the reset vector: the CPU starts here (0xFFFFFFF0)
        .code16
        ljmp    $0xF000, $(_start - 0xF0000)
