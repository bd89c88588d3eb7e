package apierr

// The error types of the Lambda API (package functions and its faces).
// ResourceNotFoundException is shared with the other services
// (ResourceNotFound above); the Lambda face maps each to the HTTP status
// its model gives it.
const (
	// InvalidParameterValue: a parameter is out of range or malformed (400).
	InvalidParameterValue Code = "InvalidParameterValueException"
	// ResourceConflict: the function or mapping exists, or is being
	// changed (409).
	ResourceConflict Code = "ResourceConflictException"
	// TooManyRequests: the function's (or the account's) concurrency is
	// used up, or a rate limit was hit (429). Its Reason field says which.
	TooManyRequests Code = "TooManyRequestsException"
	// Service: the service failed internally (500).
	Service Code = "ServiceException"
	// RequestTooLarge: an Invoke payload over its limit (413).
	RequestTooLarge Code = "RequestTooLargeException"
	// InvalidRequestContent: the request body is not valid JSON (400).
	InvalidRequestContent Code = "InvalidRequestContentException"
	// CodeStorageExceeded: the code store is full (400).
	CodeStorageExceeded Code = "CodeStorageExceededException"
	// InvalidZipFile: the function's zip cannot be read (502 in the model).
	InvalidZipFile Code = "InvalidZipFileException"
	// InvalidRuntime: the runtime or its bootstrap cannot start (502).
	InvalidRuntime Code = "InvalidRuntimeException"
	// ResourceNotReady: the function is not Active yet (502).
	ResourceNotReady Code = "ResourceNotReadyException"
)
