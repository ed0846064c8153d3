// The Flex Consumption (FC1, Linux) plan and the Python Function App on it. The app runs as its
// user-assigned identity everywhere: deployment package, host storage, telemetry, service calls.
// No keys or connection strings with secrets: storage is reached with AzureWebJobsStorage__*
// identity settings, Application Insights with Entra auth.

@description('Name of the Function App (globally unique host name).')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app (Flex Consumption must be available there).')
param location string

@description('Tags for the plan and the app.')
param tags object = {}

@description('azd service name this app hosts (azure.yaml services key).')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (for the host\'s and the service\'s credentials).')
param identityClientId string

@description('Name of the Functions storage account (AzureWebJobsStorage).')
param storageAccountName string

@description('Blob container in that account for the deployment package.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Python version of the Flex Consumption runtime.')
@allowed(['3.10', '3.11', '3.12'])
param pythonVersion string = '3.11'

@description('Memory of each instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound of instances for the app. Every queue-triggered function scales on its own instances, each with its own GeoCatalog rate limiter.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('The service\'s app settings (GEOCATALOG_*, INGEST_*, ...); the host\'s identity settings are added here.')
param appSettings object

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Flex Consumption zone redundancy exists only in some regions and needs always-ready instances; the queues and the job table carry the state, so a zone outage delays work without losing it.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the HTTP API and the Event Grid webhook are called from outside; callers authenticate with function keys (Event Grid with the webhook's system key).
  // checkov:skip=CKV_AZURE_17: client certificates cannot be presented by Event Grid deliveries; function keys authenticate callers.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales out on demand (from zero); always-ready instances would cost without adding failover the queues do not already give.
  // checkov:skip=CKV_AZURE_213: App Service health check is not available on Flex Consumption; GET /api/health serves probes.
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are not set: on Flex Consumption the
// runtime comes from functionAppConfig, and the platform rejects those settings.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  // These checks read App Service web-server options into the app settings resource:
  // checkov:skip=CKV_AZURE_63: HTTP logs are an App Service (Windows/containers) feature; requests are traced in Application Insights.
  // checkov:skip=CKV_AZURE_65: detailed error pages are an App Service feature; errors are logged to Application Insights.
  // checkov:skip=CKV_AZURE_66: failed request tracing is IIS-only (Windows); this is a Linux Flex Consumption app.
  // checkov:skip=CKV_AZURE_80: no .NET Framework: the app runs Python 3.11.
  // checkov:skip=CKV_AZURE_88: Flex Consumption deploys from a blob container; there is no Azure Files content share.
  // checkov:skip=CKV_AZURE_13: App Service Authentication would refuse Event Grid deliveries; the API authenticates with function keys.
  // checkov:skip=CKV_AZURE_222: app settings do not control network access (see the site).
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, {
    // Host storage and the service's StorageSettings, identity-based for blob, queue and table.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // The service's credential for GeoCatalog tokens (GEOCATALOG_CREDENTIAL managed-identity).
    AZURE_CLIENT_ID: identityClientId
    // The connection string names the component; its instrumentation key is an identifier, not a
    // credential: local auth is disabled, so ingestion needs the Entra token configured below.
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  })
}

// No publishing user names and passwords: deployments (azd) authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
