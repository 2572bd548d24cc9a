/**
 * The `syncstate/1` wire protocol's vocabulary (docs/protocol.md): every method name, field and
 * error code, defined once for the TypeScript side. syncstate/protocol.py is the Python twin,
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

// ---------------------------------------------------------------- fields

export const FIELD_PROTOCOL = 'protocol';
export const FIELD_METHOD = 'method';
export const FIELD_MODEL = 'model';
export const FIELD_VERSION = 'version';
export const FIELD_STATE = 'state';
export const FIELD_BUFFER_PATHS = 'buffer_paths';
export const FIELD_OPS = 'ops';
export const FIELD_ACK = 'ack';
export const FIELD_ID = 'id';
export const FIELD_BASE = 'base';
export const FIELD_CODE = 'code';
export const FIELD_MESSAGE = 'message';
export const FIELD_CONTENT = 'content';
export const FIELD_REQUEST = 'request';
export const FIELD_MODELS = 'models';
export const FIELD_CLASS = 'class';
export const FIELD_MODEL_ID = 'model_id';
/** In a command's request and reply (the `content` of a `custom` message). */
export const FIELD_SYNCSTATE = 'syncstate';
export const FIELD_NAME = 'name';
export const FIELD_MSG = 'msg';
export const FIELD_OK = 'ok';
/** In a `child` reply: the child's widget model id. */
export const FIELD_WIDGET = 'widget';
/** In the saved state of a view output. */
export const FIELD_BUFFERS = 'buffers';
export const FIELD_STATE_OMITTED = 'state_omitted';

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
