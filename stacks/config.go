package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// LoadConfig resolves the pipeline configuration from the app's context,
// cdk.json and config/<stage>.json under dir.
func LoadConfig(app awscdk.App, dir string) (config.Config, error) {
	cdkJSON, err := ReadCDKJSONContext(filepath.Join(dir, "cdk.json"))
	if err != nil {
		return config.Config{}, err
	}
	all, _ := app.Node().GetAllContext(nil).(map[string]interface{})
	return config.Load(config.Sources{
		CDKJSONContext: cdkJSON,
		Context:        all,
		StageDir:       filepath.Join(dir, "config"),
	})
}

// ReadCDKJSONContext returns the "context" object of a cdk.json file.
func ReadCDKJSONContext(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return doc.Context, nil
}
