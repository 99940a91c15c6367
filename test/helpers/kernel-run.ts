/** Kernel runs with poisoned outputs (src/webgpu/verify) and the assertion the kernel tests use with them. */
export { poisoned, runKernel, type HostTensor, type OutputSpec } from '../../src/webgpu/verify/run-kernel';
export { expectClose } from './compare';
