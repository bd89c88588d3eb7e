package functions

import "encoding/json"

// The request and response types of the Lambda API's function actions.
// JSON names are the model's (lambda-2015-03-31), so the REST-JSON face
// decodes bodies straight into them and encodes them back; members a face
// takes from the URI or headers are tagged "-".

// FunctionCode is the code of CreateFunction. Spate takes ZipFile only.
type FunctionCode struct {
	ZipFile         []byte `json:"ZipFile,omitempty"` // base64 in JSON
	S3Bucket        string `json:"S3Bucket,omitempty"`
	S3Key           string `json:"S3Key,omitempty"`
	S3ObjectVersion string `json:"S3ObjectVersion,omitempty"`
	ImageURI        string `json:"ImageUri,omitempty"`
}

// Environment is a function's variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// CreateInput is CreateFunctionRequest. Members Spate does not serve
// (VpcConfig, DeadLetterConfig, KMSKeyArn, TracingConfig, SnapStart,
// LoggingConfig, EphemeralStorage, ...) are accepted and ignored, except
// those that would change what runs: Layers, FileSystemConfigs, an image
// package, which are refused.
type CreateInput struct {
	FunctionName      string            `json:"FunctionName"`
	Runtime           string            `json:"Runtime,omitempty"`
	Role              string            `json:"Role"`
	Handler           string            `json:"Handler,omitempty"`
	Code              *FunctionCode     `json:"Code"`
	Description       string            `json:"Description,omitempty"`
	Timeout           *int              `json:"Timeout,omitempty"`
	MemorySize        *int              `json:"MemorySize,omitempty"`
	Publish           bool              `json:"Publish,omitempty"`
	PackageType       string            `json:"PackageType,omitempty"`
	Environment       *Environment      `json:"Environment,omitempty"`
	Tags              map[string]string `json:"Tags,omitempty"`
	Architectures     []string          `json:"Architectures,omitempty"`
	Layers            []string          `json:"Layers,omitempty"`
	FileSystemConfigs []json.RawMessage `json:"FileSystemConfigs,omitempty"`
}

// UpdateCodeInput is UpdateFunctionCodeRequest.
type UpdateCodeInput struct {
	FunctionName    string   `json:"-"`
	ZipFile         []byte   `json:"ZipFile,omitempty"`
	S3Bucket        string   `json:"S3Bucket,omitempty"`
	S3Key           string   `json:"S3Key,omitempty"`
	S3ObjectVersion string   `json:"S3ObjectVersion,omitempty"`
	ImageURI        string   `json:"ImageUri,omitempty"`
	Publish         bool     `json:"Publish,omitempty"`
	DryRun          bool     `json:"DryRun,omitempty"`
	RevisionID      string   `json:"RevisionId,omitempty"`
	Architectures   []string `json:"Architectures,omitempty"`
}

// UpdateConfigInput is UpdateFunctionConfigurationRequest; nil members
// are left as they are.
type UpdateConfigInput struct {
	FunctionName      string            `json:"-"`
	Role              *string           `json:"Role,omitempty"`
	Handler           *string           `json:"Handler,omitempty"`
	Description       *string           `json:"Description,omitempty"`
	Timeout           *int              `json:"Timeout,omitempty"`
	MemorySize        *int              `json:"MemorySize,omitempty"`
	Environment       *Environment      `json:"Environment,omitempty"`
	Runtime           *string           `json:"Runtime,omitempty"`
	RevisionID        string            `json:"RevisionId,omitempty"`
	Layers            []string          `json:"Layers,omitempty"`
	FileSystemConfigs []json.RawMessage `json:"FileSystemConfigs,omitempty"`
}

// FunctionConfiguration is the model's FunctionConfiguration, as Spate
// fills it.
type FunctionConfiguration struct {
	FunctionName     string                `json:"FunctionName"`
	FunctionArn      string                `json:"FunctionArn"`
	Runtime          string                `json:"Runtime,omitempty"`
	Role             string                `json:"Role"`
	Handler          string                `json:"Handler,omitempty"`
	CodeSize         int64                 `json:"CodeSize"`
	Description      string                `json:"Description"`
	Timeout          int                   `json:"Timeout"`
	MemorySize       int                   `json:"MemorySize"`
	LastModified     string                `json:"LastModified"`
	CodeSha256       string                `json:"CodeSha256"`
	Version          string                `json:"Version"`
	Environment      *Environment          `json:"Environment,omitempty"`
	TracingConfig    *TracingConfig        `json:"TracingConfig,omitempty"`
	RevisionID       string                `json:"RevisionId"`
	State            string                `json:"State"`
	LastUpdateStatus string                `json:"LastUpdateStatus"`
	PackageType      string                `json:"PackageType"`
	Architectures    []string              `json:"Architectures"`
	EphemeralStorage *EphemeralStorage     `json:"EphemeralStorage,omitempty"`
	LoggingConfig    *LoggingConfig        `json:"LoggingConfig,omitempty"`
	SnapStart        *SnapStartResponse    `json:"SnapStart,omitempty"`
	RuntimeVersion   *RuntimeVersionConfig `json:"RuntimeVersionConfig,omitempty"`
}

// TracingConfig is TracingConfigResponse: always PassThrough (no X-Ray).
type TracingConfig struct {
	Mode string `json:"Mode"`
}

// EphemeralStorage is /tmp's size as reported (512 MB; not enforced).
type EphemeralStorage struct {
	Size int `json:"Size"`
}

// LoggingConfig is where a function logs: Spate's log, reported as the
// log group AWS would use.
type LoggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
}

// SnapStartResponse says SnapStart is off.
type SnapStartResponse struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

// RuntimeVersionConfig is reported empty-free: Spate has one version of
// each runtime.
type RuntimeVersionConfig struct {
	RuntimeVersionArn string `json:"RuntimeVersionArn,omitempty"`
}

// FunctionCodeLocation is GetFunction's Code. Spate keeps the unzipped
// code, not a downloadable zip, so Location is empty.
type FunctionCodeLocation struct {
	RepositoryType string `json:"RepositoryType"`
	Location       string `json:"Location,omitempty"`
}

// Concurrency is a function's reserved concurrency.
type Concurrency struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions,omitempty"`
}

// GetOutput is GetFunctionResponse.
type GetOutput struct {
	Configuration FunctionConfiguration `json:"Configuration"`
	Code          FunctionCodeLocation  `json:"Code"`
	Tags          map[string]string     `json:"Tags,omitempty"`
	Concurrency   *Concurrency          `json:"Concurrency,omitempty"`
}

// ListInput is ListFunctionsRequest (query parameters).
type ListInput struct {
	Marker   string
	MaxItems int // 0: the default, 50
}

// ListOutput is ListFunctionsResponse.
type ListOutput struct {
	NextMarker string                  `json:"NextMarker,omitempty"`
	Functions  []FunctionConfiguration `json:"Functions"`
}

// AccountSettings is GetAccountSettingsResponse.
type AccountSettings struct {
	AccountLimit AccountLimit `json:"AccountLimit"`
	AccountUsage AccountUsage `json:"AccountUsage"`
}

// AccountLimit are the limits Spate enforces.
type AccountLimit struct {
	TotalCodeSize                  int64 `json:"TotalCodeSize"`
	CodeSizeUnzipped               int64 `json:"CodeSizeUnzipped"`
	CodeSizeZipped                 int64 `json:"CodeSizeZipped"`
	ConcurrentExecutions           int   `json:"ConcurrentExecutions"`
	UnreservedConcurrentExecutions int   `json:"UnreservedConcurrentExecutions"`
}

// AccountUsage is what the functions use.
type AccountUsage struct {
	TotalCodeSize int64 `json:"TotalCodeSize"`
	FunctionCount int64 `json:"FunctionCount"`
}

// Invocation types of InvokeInput.
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"
)

// InvokeInput is InvocationRequest.
type InvokeInput struct {
	FunctionName   string
	Qualifier      string
	InvocationType string // "" is RequestResponse
	LogType        string // "", "None" or "Tail"
	ClientContext  string // base64 JSON, as the X-Amz-Client-Context header
	Payload        []byte
}

// InvokeOutput is InvocationResponse: StatusCode 200 with the Result of a
// RequestResponse invocation, 202 for Event, 204 for DryRun.
type InvokeOutput struct {
	StatusCode int
	Result     Result
}
