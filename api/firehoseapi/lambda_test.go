package firehoseapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/functions"
)

// oneFunction is a functions.Invoker with one function, "transform", that
// returns every record as it came.
type oneFunction struct{}

const transformARN = "arn:aws:lambda:us-east-1:000000000000:function:transform"

func (oneFunction) FunctionARN(_ context.Context, fn string) (string, error) {
	if fn != transformARN {
		return "", apierr.New(apierr.ResourceNotFound, "Function not found: %s", fn)
	}
	return transformARN, nil
}

func (oneFunction) Invoke(context.Context, string, []byte) (functions.Result, error) {
	return functions.Result{Payload: []byte(`{"records":[]}`)}, nil
}

// TestAWSSDKLambdaProcessor: a Lambda processor sent with aws-sdk-go-v2
// is accepted and described with its parameters as given; one naming an
// unknown function is a typed InvalidArgumentException.
func TestAWSSDKLambdaProcessor(t *testing.T) {
	f := newFixture(t, firehose.WithInvoker(oneFunction{}))
	c := f.sdkClient()
	ctx := context.Background()
	processing := func(arn string) *types.ProcessingConfiguration {
		return &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{{
			Type: types.ProcessorTypeLambda,
			Parameters: []types.ProcessorParameter{
				{ParameterName: types.ProcessorParameterNameLambdaArn, ParameterValue: aws.String(arn)},
				{ParameterName: types.ProcessorParameterNameBufferSizeInMb, ParameterValue: aws.String("0.5")},
				{ParameterName: types.ProcessorParameterNameBufferIntervalInSeconds, ParameterValue: aws.String("30")},
				{ParameterName: types.ProcessorParameterNameLambdaNumberOfRetries, ParameterValue: aws.String("5")},
				{ParameterName: types.ProcessorParameterNameRoleArn, ParameterValue: aws.String(testRole)},
			},
		}}}
	}
	_, err := c.CreateDeliveryStream(ctx, &sdk.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("xf"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String(testRole), BucketARN: aws.String(f.bucketARN()), ProcessingConfiguration: processing(transformARN),
		},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream: %v", err)
	}
	d, err := c.DescribeDeliveryStream(ctx, &sdk.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("xf")})
	if err != nil {
		t.Fatalf("DescribeDeliveryStream: %v", err)
	}
	got := d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription.ProcessingConfiguration
	want := processing(transformARN)
	if got == nil || !aws.ToBool(got.Enabled) || len(got.Processors) != 1 || got.Processors[0].Type != types.ProcessorTypeLambda ||
		len(got.Processors[0].Parameters) != len(want.Processors[0].Parameters) {
		t.Fatalf("described processing %+v", got)
	}
	for i, p := range got.Processors[0].Parameters {
		w := want.Processors[0].Parameters[i]
		if p.ParameterName != w.ParameterName || aws.ToString(p.ParameterValue) != aws.ToString(w.ParameterValue) {
			t.Errorf("parameter %d described as %s=%s, want %s=%s", i, p.ParameterName, aws.ToString(p.ParameterValue), w.ParameterName, aws.ToString(w.ParameterValue))
		}
	}

	_, err = c.CreateDeliveryStream(ctx, &sdk.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("xf-missing"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String(testRole), BucketARN: aws.String(f.bucketARN()),
			ProcessingConfiguration: processing("arn:aws:lambda:us-east-1:000000000000:function:missing"),
		},
	})
	var invalid *types.InvalidArgumentException
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "no such function") {
		t.Errorf("unknown function: %v, want a typed InvalidArgumentException", err)
	}
}
