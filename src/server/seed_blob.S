/* The built-in data set (data/seed/dataset.json), embedded in annalsd so
 * that a bare binary or a container serves it. SEED_PATH comes from the
 * Makefile. The blob is NUL-terminated for the JSON parser. */
	.section .rodata
	.global annals_seed_json
	.global annals_seed_json_len
	.balign 16
annals_seed_json:
	.incbin SEED_PATH
annals_seed_json_end:
	.byte 0
	.balign 8
annals_seed_json_len:
	.quad annals_seed_json_end - annals_seed_json
	.section .note.GNU-stack,"",@progbits
