/**
 * The `syncstate/1` wire protocol's vocabulary (docs/protocol.md): every method name and error
 * code, defined once for the TypeScript side (the fields of messages are spelled in
 * messages.ts alone). syncstate/protocol.py is the Python twin,
 * with the same names; tests/python/test_protocol_vocabulary.py checks that the two and
 * docs/protocol.md's "Vocabulary" tables say the same.
 */

export const PROTOCOL = 'syncstate/1';
/** The comm target of every syncstate comm. */
export const TARGET = 'syncstate';
export const MIME_TYPE = 'application/vnd.syncstate.view+json';
/** A model held in another model's field travels as this prefix and its model id. */
export const REF_PREFIX = 'syncstate:';

// ---------------------------------------------------------------- methods

/** Kernel -> frontend, on a model comm. */
export const OPEN = 'open';
/** Both ways: the kernel's change, or a frontend's edit. */
export const PATCH = 'patch';
export const REJECT = 'reject';
export const STATE = 'state';
/** Both ways. */
export const CUSTOM = 'custom';
/** Frontend -> kernel, on a model comm. */
export const SYNC = 'sync';
/** Both ways, on a widget comm only: a view asks for a child model's widget; the kernel answers. */
export const CHILD = 'child';
/** The control comm: requests, then replies. */
export const LIST = 'list';
export const CREATE = 'create';
export const MODELS = 'models';
export const CREATED = 'created';
export const ERROR = 'error';
/** Commands: the `syncstate` member of a `custom` message's content. */
export const INVOKE = 'invoke';
export const INVOKE_REPLY = 'invoke-reply';

// ---------------------------------------------------------------- error codes

/** Codes the kernel sends (`reject`, control `error`, command replies). */
export const BAD_MESSAGE = 'bad_message';
export const UNKNOWN_METHOD = 'unknown_method';
export const BAD_OP = 'bad_op';
export const BAD_PATH = 'bad_path';
export const TEST_FAILED = 'test_failed';
export const FORBIDDEN = 'forbidden';
export const INVALID = 'invalid';
export const CONFLICT = 'conflict';
export const STALE = 'stale';
export const TOO_LARGE = 'too_large';
export const INTERNAL = 'internal';
export const UNKNOWN_CLASS = 'unknown_class';
export const UNKNOWN_COMMAND = 'unknown_command';
// Codes a frontend mirror reports itself; the kernel never sends them.
/** A queued edit never sent: the edit it was made on top of was rejected, or it no longer applies. */
export const DROPPED = 'dropped';
/** An edit that will get no answer: its model closed, or the kernel restarted or died. */
export const CLOSED = 'closed';
/** A kernel message did not follow on from the last one; the mirror asked for the whole state. */
export const OUT_OF_SYNC = 'out_of_sync';
