package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// addCatalog declares the Glue database and the landing table `orders`, the
// one source of truth for the landing schema: Firehose converts records
// against it and the landing crawler only adds partitions to it.
func (s *StorageStack) addCatalog(cfg config.Config) {
	names := cfg.Names()
	s.Database = awsglue.NewCfnDatabase(s.Stack, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: s.Stack.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(names.Database),
			Description: jsii.String("Orders pipeline: landing and staging tables"),
		},
	})
	s.LandingTable = awsglue.NewCfnTable(s.Stack, jsii.String("LandingTable"), &awsglue.CfnTableProps{
		CatalogId:    s.Stack.Account(),
		DatabaseName: s.Database.Ref(),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:        jsii.String(names.LandingTable),
			Description: jsii.String("Orders as Firehose lands them: Parquet/Snappy, partitioned by processing time"),
			TableType:   jsii.String("EXTERNAL_TABLE"),
			Parameters: map[string]string{
				"classification":      "parquet",
				"parquet.compression": "SNAPPY",
				"EXTERNAL":            "TRUE",
			},
			PartitionKeys: glueColumns(orders.PartitionColumns),
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      glueColumns(orders.LandingColumns),
				Location:     jsii.String("s3://" + *s.LandingBucket.BucketName() + "/" + LandingOrdersPrefix),
				InputFormat:  jsii.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"),
				OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
					Parameters:           map[string]string{"serialization.format": "1"},
				},
			},
		},
	})
}

func glueColumns(cols []orders.Column) *[]*awsglue.CfnTable_ColumnProperty {
	out := make([]*awsglue.CfnTable_ColumnProperty, len(cols))
	for i, c := range cols {
		out[i] = &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)}
		if c.Comment != "" {
			out[i].Comment = jsii.String(c.Comment)
		}
	}
	return &out
}
