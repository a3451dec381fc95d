export { kErrorCodes, kRetiredCodes, errorSpec, type ErrorCode, type ErrorSpec } from './codes.js';
export { PortcullisError } from './portcullis-error.js';
