package integration

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The Lambda API's rows of TestHostileRequests: each hostile request gets
// the model's status and error type, and nothing of it is kept.

const (
	tIPV     = "InvalidParameterValueException"
	tContent = "InvalidRequestContentException"
	tTooBig  = "RequestTooLargeException"
)

// hostileFn is the function the invoke rows call; made by the first row
// that needs it.
const hostileFn = "hostile-fn"

var hostileFnOnce sync.Map // *hostileEnv → *sync.Once

// withFunction makes sure e's server has hostileFn (a spate.http function
// whose endpoint refuses connections: rows never get that far), then
// returns body.
func withFunction(body func(*hostileEnv) []byte) func(*hostileEnv) []byte {
	return func(e *hostileEnv) []byte {
		once, _ := hostileFnOnce.LoadOrStore(e, &sync.Once{})
		once.(*sync.Once).Do(func() {
			_, err := e.srv.Lambda(e.t).CreateFunction(e.t.Context(), &lambda.CreateFunctionInput{
				FunctionName: aws.String(hostileFn), Runtime: types.Runtime("spate.http"), Role: aws.String(lambdaRole),
				Code: &types.FunctionCode{}, Environment: &types.Environment{Variables: map[string]string{"SPATE_ENDPOINT_URL": "http://127.0.0.1:1/"}}})
			if err != nil {
				e.t.Fatalf("create %s: %v", hostileFn, err)
			}
		})
		return body(e)
	}
}

// createWithZip is a CreateFunction body with zip as its code.
func createWithZip(name string, zip []byte) func(*hostileEnv) []byte {
	return jsonOf(map[string]any{"FunctionName": name, "Runtime": "provided.al2023", "Role": lambdaRole,
		"Code": map[string]any{"ZipFile": base64.StdEncoding.EncodeToString(zip)}})
}

// hostileZip builds a zip; add writes its entries.
func hostileZip(add func(zw *zip.Writer)) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add(zw)
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func lambdaRow(name, method, path string, body func(*hostileEnv) []byte, status int, errType string) hostileCase {
	return hostileCase{name: "lambda/" + name, method: method, path: path, body: body, status: status, errType: errType,
		header: map[string]string{"Content-Type": "application/json"}}
}

var _ = addHostile(hostileLambdaRows()...)

func hostileLambdaRows() []hostileCase {
	const fns = "/2015-03-31/functions"
	slip := hostileZip(func(zw *zip.Writer) { w, _ := zw.Create("../../escaped"); _, _ = w.Write([]byte("x")) })
	absolute := hostileZip(func(zw *zip.Writer) { w, _ := zw.Create("/tmp/escaped"); _, _ = w.Write([]byte("x")) })
	link := hostileZip(func(zw *zip.Writer) {
		h := &zip.FileHeader{Name: "bootstrap"}
		h.SetMode(fs.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		_, _ = w.Write([]byte("/bin/sh"))
	})
	// A bomb that says what it is: 300 MB declared.
	declared := hostileZip(func(zw *zip.Writer) {
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: "big", Method: zip.Store, CompressedSize64: 1, UncompressedSize64: 300 << 20})
		_, _ = w.Write([]byte("x"))
	})
	// A bomb that lies: 1 byte declared, 1 MB of zeros deflated.
	liar := func() []byte {
		var inner bytes.Buffer
		zw := zip.NewWriter(&inner)
		w, _ := zw.Create("zeros")
		_, _ = w.Write(make([]byte, 1<<20))
		_ = zw.Close()
		out := inner.Bytes()
		// The local and central headers' uncompressed size (offsets 22 and
		// 24) say 1.
		if i := bytes.Index(out, []byte("PK\x03\x04")); i == 0 {
			out[22], out[23], out[24], out[25] = 1, 0, 0, 0
		}
		if i := bytes.Index(out, []byte("PK\x01\x02")); i > 0 {
			out[i+24], out[i+25], out[i+26], out[i+27] = 1, 0, 0, 0
		}
		return out
	}()
	many := hostileZip(func(zw *zip.Writer) {
		for i := range 20001 {
			_, _ = zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("f/%d", i), Method: zip.Store})
		}
	})
	bigEnv := jsonOf(map[string]any{"Environment": map[string]any{"Variables": map[string]string{"BIG": strings.Repeat("x", 5000)}}})
	fn := fns + "/" + hostileFn
	clientCtx := func(v string) hostileCase {
		return hostileCase{name: "lambda/invoke client context " + v, method: "POST", path: fn + "/invocations",
			header: map[string]string{"X-Amz-Client-Context": v}, body: withFunction(str(`{}`)), status: e400}
	}
	badCtx := clientCtx("not base64!")
	badCtx.errType = tContent
	notObject := clientCtx(base64.StdEncoding.EncodeToString([]byte(`[1]`)))
	notObject.errType = tContent
	tooLongCtx := clientCtx(strings.Repeat("A", 4000))
	tooLongCtx.errType = tIPV
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	rows := []hostileCase{
		lambdaRow("create not json", "POST", fns, str(`{"FunctionName":`), e400, tContent),
		lambdaRow("create deep json", "POST", fns, str(deep), e400, tContent),
		lambdaRow("create zip not base64", "POST", fns, str(`{"FunctionName":"h","Runtime":"provided.al2","Role":"`+lambdaRole+`","Code":{"ZipFile":"!!"}}`), e400, tContent),
		lambdaRow("create zip slip", "POST", fns, createWithZip("hostile-slip", slip), e400, tIPV),
		lambdaRow("create absolute entry", "POST", fns, createWithZip("hostile-abs", absolute), e400, tIPV),
		lambdaRow("create symlink entry", "POST", fns, createWithZip("hostile-link", link), e400, tIPV),
		lambdaRow("create declared bomb", "POST", fns, createWithZip("hostile-bomb", declared), e400, tIPV),
		lambdaRow("create lying bomb", "POST", fns, createWithZip("hostile-liar", liar), e400, tIPV),
		lambdaRow("create 20001 entries", "POST", fns, createWithZip("hostile-many", many), e400, tIPV),
		lambdaRow("create not a zip", "POST", fns, createWithZip("hostile-junk", []byte("PK junk")), e400, tIPV),
		lambdaRow("create python", "POST", fns, jsonOf(map[string]any{"FunctionName": "h", "Runtime": "python3.12", "Role": lambdaRole,
			"Code": map[string]any{"ZipFile": base64.StdEncoding.EncodeToString(slip)}}), e400, tIPV),
		lambdaRow("create long name", "POST", fns, jsonOf(map[string]any{"FunctionName": strings.Repeat("n", 65), "Runtime": "spate.http", "Role": lambdaRole}), e400, tIPV),
		lambdaRow("create name with slash", "POST", fns, jsonOf(map[string]any{"FunctionName": "a/b", "Runtime": "spate.http", "Role": lambdaRole}), e400, tIPV),
		lambdaRow("create s3 code", "POST", fns, jsonOf(map[string]any{"FunctionName": "h", "Runtime": "provided.al2", "Role": lambdaRole,
			"Code": map[string]any{"S3Bucket": "b", "S3Key": "k"}}), e400, tIPV),
		lambdaRow("create image", "POST", fns, jsonOf(map[string]any{"FunctionName": "h", "PackageType": "Image", "Role": lambdaRole,
			"Code": map[string]any{"ImageUri": "x"}}), e400, tIPV),
		lambdaRow("create http without url", "POST", fns, jsonOf(map[string]any{"FunctionName": "h", "Runtime": "spate.http", "Role": lambdaRole, "Code": map[string]any{}}), e400, tIPV),
		lambdaRow("create reserved variable", "POST", fns, jsonOf(map[string]any{"FunctionName": "h", "Runtime": "spate.http", "Role": lambdaRole,
			"Environment": map[string]any{"Variables": map[string]string{"AWS_ACCESS_KEY_ID": "x", "SPATE_ENDPOINT_URL": "http://x"}}}), e400, tIPV),
		lambdaRow("create timeout type", "POST", fns, str(`{"FunctionName":"h","Timeout":"long"}`), e400, tIPV),
		lambdaRow("get escaped slash", "GET", fns+"/a%2Fb", nil, e400, tIPV),
		lambdaRow("get 300 characters", "GET", fns+"/"+strings.Repeat("n", 300), nil, e400, tIPV),
		lambdaRow("get other account", "GET", fns+"/arn:aws:lambda:us-east-1:123456789012:function:x", nil, e404, tNF),
		lambdaRow("get other region", "GET", fns+"/arn:aws:lambda:eu-west-1:000000000000:function:x", nil, e404, tNF),
		lambdaRow("get missing", "GET", fns+"/nope", nil, e404, tNF),
		lambdaRow("get version", "GET", fn+"?Qualifier=7", withFunction(nil2), e404, tNF),
		lambdaRow("list max items", "GET", fns+"?MaxItems=abc", nil, e400, tIPV),
		lambdaRow("list max items 0", "GET", fns+"?MaxItems=0", nil, e400, tIPV),
		lambdaRow("update env over 4 KB", "PUT", fn+"/configuration", withFunction(bigEnv), e400, tIPV),
		lambdaRow("update timeout 901", "PUT", fn+"/configuration", withFunction(str(`{"Timeout":901}`)), e400, tIPV),
		lambdaRow("update memory 64", "PUT", fn+"/configuration", withFunction(str(`{"MemorySize":64}`)), e400, tIPV),
		lambdaRow("update runtime", "PUT", fn+"/configuration", withFunction(str(`{"Runtime":"nodejs20.x"}`)), e400, tIPV),
		lambdaRow("update stale revision", "PUT", fn+"/configuration", withFunction(str(`{"RevisionId":"0"}`)), http.StatusPreconditionFailed, "PreconditionFailedException"),
		lambdaRow("update code not a zip", "PUT", fn+"/code", withFunction(str(`{"ZipFile":"aGVsbG8="}`)), e400, tIPV),
		lambdaRow("concurrency negative", "PUT", "/2017-10-31/functions/"+hostileFn+"/concurrency", withFunction(str(`{"ReservedConcurrentExecutions":-1}`)), e400, tIPV),
		lambdaRow("concurrency missing", "PUT", "/2017-10-31/functions/"+hostileFn+"/concurrency", withFunction(str(`{}`)), e400, tIPV),
		lambdaRow("concurrency string", "PUT", "/2017-10-31/functions/"+hostileFn+"/concurrency", withFunction(str(`{"ReservedConcurrentExecutions":"x"}`)), e400, tIPV),
		lambdaRow("tag a name", "POST", "/2017-03-31/tags/"+hostileFn, withFunction(str(`{"Tags":{"a":"b"}}`)), e400, tIPV),
		lambdaRow("tag aws prefix", "POST", "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:"+hostileFn, withFunction(str(`{"Tags":{"aws:x":"b"}}`)), e400, tIPV),
		lambdaRow("tag 51", "POST", "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:"+hostileFn, withFunction(func(*hostileEnv) []byte {
			tags := map[string]string{}
			for i := range 51 {
				tags[fmt.Sprint("k", i)] = "v"
			}
			b, _ := json.Marshal(map[string]any{"Tags": tags})
			return b
		}), e400, tIPV),
		lambdaRow("untag no keys", "DELETE", "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:"+hostileFn, withFunction(nil2), e400, tIPV),
		lambdaRow("invoke missing", "POST", fns+"/nope/invocations", str(`{}`), e404, tNF),
		lambdaRow("invoke not json", "POST", fn+"/invocations", withFunction(str(`{"a":`)), e400, tContent),
		lambdaRow("invoke over 6 MB", "POST", fn+"/invocations", withFunction(func(*hostileEnv) []byte {
			return []byte(`"` + strings.Repeat("x", 6<<20) + `"`)
		}), http.StatusRequestEntityTooLarge, tTooBig),
		{name: "lambda/invoke event over 1 MB", method: "POST", path: fn + "/invocations", header: map[string]string{"X-Amz-Invocation-Type": "Event"},
			body: withFunction(func(*hostileEnv) []byte { return []byte(`"` + strings.Repeat("x", 1<<20) + `"`) }), status: http.StatusRequestEntityTooLarge, errType: tTooBig},
		{name: "lambda/invoke bad type", method: "POST", path: fn + "/invocations", header: map[string]string{"X-Amz-Invocation-Type": "Later"},
			body: withFunction(str(`{}`)), status: e400, errType: tIPV},
		{name: "lambda/invoke bad log type", method: "POST", path: fn + "/invocations", header: map[string]string{"X-Amz-Log-Type": "Everything"},
			body: withFunction(str(`{}`)), status: e400, errType: tIPV},
		badCtx, notObject, tooLongCtx,
		lambdaRow("invoke qualifier", "POST", fn+"/invocations?Qualifier=prod", withFunction(str(`{}`)), e404, tNF),
		lambdaRow("unknown path", "GET", "/2015-03-31/layers", nil, e404, tOp),
		lambdaRow("unknown method", "PATCH", fn, nil, e404, tOp),
		lambdaRow("delete latest", "DELETE", fn+"?Qualifier=%24LATEST", withFunction(nil2), e400, tIPV),
	}
	return rows
}

// nil2 is an empty body.
func nil2(*hostileEnv) []byte { return nil }
