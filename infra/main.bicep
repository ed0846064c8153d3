// geocatalog-ingest on Azure: a Python 3.11 Function App on Flex Consumption (FC1) that ingests
// STAC items into a Microsoft Planetary Computer Pro GeoCatalog. Deployed with `azd up`.
// One resource group holds everything; the GeoCatalog itself is not created here (pass its URL,
// and its resource id to have the app's identity granted the GeoCatalog role on it).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Region for every resource (Flex Consumption must be offered there).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create or reuse; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function App name (global host name); default func-<token>.')
param functionAppName string = ''

@description('Storage account name (global, 3-24 lowercase letters and digits); default st<token>.')
param storageAccountName string = ''

// ---- GeoCatalog -------------------------------------------------------------------------------

@minLength(1)
@description('GeoCatalog data-plane URL (GEOCATALOG_URL), e.g. https://<name>.<hash>.<region>.geocatalog.spatio.azure.com')
param geocatalogUrl string

@description('Resource id of the GeoCatalog (/subscriptions/.../providers/Microsoft.Orbital/geoCatalogs/<name>). When set, the app identity is granted geocatalogRoleDefinitionId on it; when empty, grant a GeoCatalog role by hand.')
param geocatalogResourceId string = ''

// GeoCatalog Administrator (read, write and delete data in a GeoCatalog; no RBAC management).
// Ingestion creates collections, items, ingestion sources and render options, so Reader is not enough.
@description('Role definition id (GUID) granted to the app identity on the GeoCatalog. Default: GeoCatalog Administrator.')
param geocatalogRoleDefinitionId string = 'c9c97b9c-105d-4bb5-a2a7-7d15666c2484'

@description('GeoCatalog data-plane api-version (GEOCATALOG_API_VERSION).')
param geocatalogApiVersion string = '2026-04-15'

@description('Token scope for the GeoCatalog (GEOCATALOG_SCOPE).')
param geocatalogScope string = 'https://geocatalog.spatio.azure.com/.default'

@description('The GeoCatalog\'s budget of STAC calls per second for the whole subscription (GEOCATALOG_SUBSCRIPTION_CALLS_PER_SECOND). Each instance limits itself to 0.8 x this / maximumInstanceCount.')
param geocatalogSubscriptionCallsPerSecond string = '50'

@description('An explicit client-side limit of GeoCatalog calls per second, per instance (GEOCATALOG_MAX_CALLS_PER_SECOND). Empty: derived from the subscription budget and maximumInstanceCount.')
param geocatalogMaxCallsPerSecond string = ''

@description('Timeout of one GeoCatalog request, in seconds (GEOCATALOG_TIMEOUT_SECONDS).')
param geocatalogTimeoutSeconds string = '30'

// ---- Sources ----------------------------------------------------------------------------------

@description('Planetary Computer base URL for template collections, mosaic info and SAS tokens (PLANETARY_COMPUTER_URL).')
param planetaryComputerUrl string = 'https://planetarycomputer.microsoft.com'

@description('Comma-separated hosts the service may fetch templates and sources from (SOURCE_ALLOWED_HOSTS).')
param sourceAllowedHosts string = 'planetarycomputer.microsoft.com,ai4edatasetspublicassets.blob.core.windows.net'

@description('Overrides of the pipeline tuning settings below (INGEST_* and SAS_RENEW_BEFORE_MINUTES), as string values.')
param ingestSettings object = {}

// ---- Scale ------------------------------------------------------------------------------------

@description('Upper bound of Flex Consumption instances for the app; also GEOCATALOG_MAX_INSTANCES, the number of instances the GeoCatalog budget is divided by.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// ---- Storage events (off by default; see infra/app/storage-events.bicep) ---------------------

@description('Watch a storage account for STAC item blobs (Event Grid system topic, subscription to ingest_events, roles). Turn on after the first deployment of the code: the subscription needs the function to exist.')
param storageEventsEnabled bool = false

@description('Resource id of the storage account to watch (/subscriptions/.../providers/Microsoft.Storage/storageAccounts/<name>).')
param storageEventsAccountId string = ''

@description('STORAGE_ROUTES: a JSON array of routes ({account, container, prefix?, suffix?, collection, mode?, syncDeletes?}); see the README, "Ingest from blob storage".')
param storageRoutes string = '[]'

@description('Containers of that account the Event Grid subscription delivers (the routes\' containers).')
param storageEventsContainers array = []

@description('Blob-name suffix the Event Grid subscription filters on (the routes\' suffix).')
param storageEventsSuffix string = '.json'

@description('Schema Event Grid delivers storage events in.')
@allowed(['EventGridSchema', 'CloudEventSchemaV1_0'])
param storageEventsSchema string = 'EventGridSchema'

@description('Object id of the GeoCatalog\'s user-assigned managed identity (GEOCATALOG_IDENTITY_OBJECT_ID): watched containers get a BlobManagedIdentity ingestion source and the identity Storage Blob Data Reader; empty: SAS sources signed by the app.')
param geocatalogIdentityObjectId string = ''

// ---- Names ------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var rgName = !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
var appName = !empty(functionAppName) ? functionAppName : 'func-${resourceToken}'
// The deployment package container: lowercase, at most 63 characters.
var deploymentContainerName = toLower('app-package-${take(appName, 32)}-${take(resourceToken, 7)}')

// Queue, table and container names the service reads from its app settings; the queues and their
// -poison queues (the host's dead-letter queues, named <queue>-poison) are created up front.
var queues = {
  plan: 'ingest-plan'
  items: 'ingest-items'
  status: 'ingest-status'
}
var jobsTableName = 'ingestjobs'
var payloadContainerName = 'ingest-payloads'

// Pipeline tuning, the service's defaults made explicit (see shared/settings.py).
var ingestDefaults = {
  INGEST_MAX_ITEMS: '100000'
  INGEST_INLINE_MAX_BYTES: '4194304'
  INGEST_SOURCE_PAGE_SIZE: '198'
  INGEST_BATCH_SIZE: '99'
  INGEST_BATCH_MAX_BYTES: '2097152'
  INGEST_STATUS_INITIAL_DELAY_SECONDS: '5'
  INGEST_STATUS_MAX_DELAY_SECONDS: '120'
  INGEST_MAX_STATUS_CHECKS: '200'
  INGEST_MAX_POST_ATTEMPTS: '4'
  INGEST_THROTTLE_MAX_DELAY_SECONDS: '300'
  SAS_RENEW_BEFORE_MINUTES: '15'
}

// Every setting the service reads (shared/settings.py); the host's identity settings
// (AzureWebJobsStorage__*, AZURE_CLIENT_ID, APPLICATIONINSIGHTS_*) are added in app/function.bicep.
var serviceSettings = union(ingestDefaults, ingestSettings, {
  GEOCATALOG_URL: geocatalogUrl
  GEOCATALOG_API_VERSION: geocatalogApiVersion
  GEOCATALOG_SCOPE: geocatalogScope
  GEOCATALOG_CREDENTIAL: 'managed-identity'
  GEOCATALOG_SUBSCRIPTION_CALLS_PER_SECOND: geocatalogSubscriptionCallsPerSecond
  // The same value as the plan's maximumInstanceCount: every instance may call the GeoCatalog.
  GEOCATALOG_MAX_INSTANCES: '${maximumInstanceCount}'
  GEOCATALOG_MAX_CALLS_PER_SECOND: geocatalogMaxCallsPerSecond
  GEOCATALOG_TIMEOUT_SECONDS: geocatalogTimeoutSeconds
  PLANETARY_COMPUTER_URL: planetaryComputerUrl
  SOURCE_ALLOWED_HOSTS: sourceAllowedHosts
  LOCAL_MODE: 'false'
  INGEST_PLAN_QUEUE: queues.plan
  INGEST_ITEMS_QUEUE: queues.items
  INGEST_STATUS_QUEUE: queues.status
  INGEST_JOBS_TABLE: jobsTableName
  INGEST_PAYLOAD_CONTAINER: payloadContainerName
})

// ---- Resources --------------------------------------------------------------------------------

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: rgName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-func-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    serviceContainerNames: [payloadContainerName]
    queueNames: [
      queues.plan
      queues.items
      queues.status
      '${queues.plan}-poison'
      '${queues.items}-poison'
      '${queues.status}-poison'
    ]
    tableNames: [jobsTableName]
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// The GeoCatalog may live in another resource group or subscription: deploy into its own.
// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Orbital/geoCatalogs/<name>; the
// placeholder keeps the scope expression valid when no id is given (the module is then skipped).
var geocatalogPlaceholderId = '/subscriptions/${subscription().subscriptionId}/resourceGroups/${rgName}/providers/Microsoft.Orbital/geoCatalogs/none'
var geocatalogIdParts = split(!empty(geocatalogResourceId) ? geocatalogResourceId : geocatalogPlaceholderId, '/')

module geocatalogRbac 'app/geocatalog-rbac.bicep' = if (!empty(geocatalogResourceId)) {
  name: 'geocatalog-rbac'
  scope: resourceGroup(geocatalogIdParts[2], geocatalogIdParts[4])
  params: {
    geoCatalogName: last(geocatalogIdParts)
    principalId: identity.outputs.principalId
    roleDefinitionId: geocatalogRoleDefinitionId
  }
}

// Storage events: the settings the service reads, and the module in the watched account's group.
var storageEventSettings = {
  STORAGE_ROUTES: storageRoutes
  GEOCATALOG_IDENTITY_OBJECT_ID: geocatalogIdentityObjectId
  STORAGE_EVENTS_MAX_BLOB_BYTES: '16777216'
  STORAGE_EVENTS_SAS_HOURS: '24'
}
var storageEventsPlaceholderId = '/subscriptions/${subscription().subscriptionId}/resourceGroups/${rgName}/providers/Microsoft.Storage/storageAccounts/none'
var storageEventsIdParts = split(!empty(storageEventsAccountId) ? storageEventsAccountId : storageEventsPlaceholderId, '/')

module storageEvents 'app/storage-events.bicep' = if (storageEventsEnabled) {
  name: 'storage-events'
  scope: resourceGroup(storageEventsIdParts[2], storageEventsIdParts[4])
  params: {
    storageAccountName: last(storageEventsIdParts)
    functionAppId: functionApp.outputs.id
    appPrincipalId: identity.outputs.principalId
    geocatalogPrincipalId: geocatalogIdentityObjectId
    containers: storageEventsContainers
    subjectSuffix: storageEventsSuffix
    eventDeliverySchema: storageEventsSchema
    tags: tags
  }
}

module functionApp 'app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    name: appName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    pythonVersion: '3.11'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    appSettings: union(serviceSettings, storageEventSettings)
  }
  // The host needs its storage and telemetry roles before it first starts.
  dependsOn: [rbac]
}

// ---- Outputs (azd stores them in the environment) ---------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_URL string = 'https://${functionApp.outputs.defaultHostName}'
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output GEOCATALOG_URL string = geocatalogUrl
output GEOCATALOG_ROLE_ASSIGNED bool = !empty(geocatalogResourceId)
