/* The FileDescriptorSet of proto/annals/v1 (build/gen/annals.desc, written
 * by protoc-c at build time), embedded so that ServerInfo can report the
 * schema this binary speaks: `annals describe` and other languages' tools
 * read it from the server instead of trusting a local copy of the .proto
 * files. DESC_PATH comes from the Makefile. */
	.section .rodata
	.global annals_descriptor_set
	.global annals_descriptor_set_len
	.balign 16
annals_descriptor_set:
	.incbin DESC_PATH
annals_descriptor_set_end:
	.balign 8
annals_descriptor_set_len:
	.quad annals_descriptor_set_end - annals_descriptor_set
	.section .note.GNU-stack,"",@progbits
